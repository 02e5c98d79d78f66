#!/usr/bin/env python3
"""canal-python 0.4 bench consumer for scripts/bench-e2e: the unchanged client
(canal.client.Client) against canal-server; counts the rows of bench.t (Entry + RowChange
fully parsed, every column value touched) until --expect rows; with --latency, each row whose
commit_us > 0 gives the sample receive wall clock − commit_us. Prints one JSON line."""
import argparse
import contextlib
import io
import json
import time

from canal.client import Client
from canal.protocol import EntryProtocol_pb2


def pct(xs, p):
    if not xs:
        return None
    k = max(1, min(len(xs), int(-(-p / 100.0 * len(xs) // 1))))
    return xs[k - 1] / 1000.0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=11111)
    ap.add_argument("--destination", default="bench")
    ap.add_argument("--schema", default="bench")
    ap.add_argument("--table", default="t")
    ap.add_argument("--expect", type=int, default=0)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--latency", action="store_true")
    ap.add_argument("--max-secs", type=float, default=600)
    a = ap.parse_args()
    start_us = time.time_ns() // 1000
    deadline = time.monotonic() + 60
    while True:
        try:
            c = Client()
            with contextlib.redirect_stdout(io.StringIO()):  # it prints 'connected to ...'
                c.connect(host=a.host, port=a.port)
                c.check_valid(username=b"", password=b"")
                c.subscribe(client_id=b"1001", destination=a.destination.encode(), filter=b"")
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    connected_us = time.time_ns() // 1000
    t0 = time.monotonic()
    rows = entries = batches = value_bytes = 0
    first = last = 0
    lat = []
    ROWDATA = EntryProtocol_pb2.EntryType.ROWDATA
    def done():  # in latency mode only rows carrying a commit_us count towards --expect
        return a.expect > 0 and (len(lat) if a.latency else rows) >= a.expect

    while not done() and time.monotonic() - t0 < a.max_secs:
        m = c.get_without_ack(a.batch)
        bid, es = m["id"], m["entries"]
        if bid <= 0 or not es:
            time.sleep(0.001)
            if bid > 0:
                c.ack(bid)
            continue
        recv = time.time_ns() // 1000
        batches += 1
        for e in es:
            entries += 1
            if e.entryType != ROWDATA:
                continue
            h = e.header
            if h.schemaName != a.schema or h.tableName != a.table:
                continue
            rc = EntryProtocol_pb2.RowChange()
            rc.MergeFromString(e.storeValue)
            if rc.isDdl:
                continue
            for rd in rc.rowDatas:
                rows += 1
                for col in rd.beforeColumns:
                    value_bytes += len(col.value)
                commit = 0
                for col in rd.afterColumns:
                    value_bytes += len(col.value)
                    if col.name == "commit_us":
                        commit = int(col.value or 0)
                if a.latency and commit > 0:
                    lat.append(recv - commit)
            if not first:
                first = recv
            last = recv
        c.ack(bid)
    secs = time.monotonic() - t0
    lat.sort()
    print(json.dumps({
        "client": "canal-python", "rows": rows, "entries": entries, "batches": batches,
        "value_bytes": value_bytes, "start_us": start_us, "connected_us": connected_us,
        "first_row_us": first, "last_row_us": last, "seconds": secs,
        "latency_samples": len(lat), "latency_ms_p50": pct(lat, 50), "latency_ms_p99": pct(lat, 99),
        "latency_ms_p999": pct(lat, 99.9), "latency_ms_max": pct(lat, 100),
        "complete": a.expect == 0 or done()}))
    c.disconnect()


if __name__ == "__main__":
    main()
