#!/usr/bin/env python3
"""Peer: python-mysql-replication (PyPI `mysql-replication`) streaming the same binlog range
as canal-server: from --file/--pos, rows events of bench.t only, rows decoded into Python
values, until --expect rows. Prints one JSON line (rows, seconds, rows/s)."""
import argparse
import json
import time

from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=3307)
    ap.add_argument("--user", default="canal")
    ap.add_argument("--password", default="canal")
    ap.add_argument("--file", required=True)
    ap.add_argument("--pos", type=int, required=True)
    ap.add_argument("--expect", type=int, required=True)
    ap.add_argument("--server-id", type=int, default=7001)
    ap.add_argument("--max-secs", type=float, default=600)
    a = ap.parse_args()
    t0 = time.monotonic()
    s = BinLogStreamReader(
        connection_settings={"host": a.host, "port": a.port, "user": a.user, "passwd": a.password},
        server_id=a.server_id, log_file=a.file, log_pos=a.pos, resume_stream=True, blocking=True,
        only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent],
        only_schemas=["bench"], only_tables=["t"])
    rows = 0
    first = None
    for ev in s:
        n = len(ev.rows)  # decodes every row of the event
        if first is None:
            first = time.monotonic()
        rows += n
        if rows >= a.expect or time.monotonic() - t0 > a.max_secs:
            break
    secs = time.monotonic() - t0
    s.close()
    print(json.dumps({"client": "mysql-replication", "rows": rows, "seconds": secs,
                      "rows_per_s": rows / secs if secs else None, "complete": rows >= a.expect}))


if __name__ == "__main__":
    main()
