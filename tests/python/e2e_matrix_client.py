"""Consumer driven by crates/cli/tests/e2e_type_matrix.rs: canal-python 0.4 (unchanged, from PyPI)
against our canal-server. It follows the same script as the Rust client in that test and writes
what it saw as JSON; the Rust test holds every expectation.

Script: subscribe with FILTER, print E2E-READY; then poll get_without_ack(BATCH):
  * the first non-empty batch is rolled back (action "rollback");
  * once some batch holding a row of TABLE has been acked, the next non-empty batch is abandoned:
    disconnect without ack, reconnect, subscribe again (action "abandon");
  * every other batch is acked (action "ack"); stop after acking a DELETE on TABLE.
Entries are described as the test's `describe` does in Rust (same JSON shape).

usage: e2e_matrix_client.py PORT FILTER TABLE BATCH OUT.json"""
import json
import sys
import time

from canal.client import Client
from canal.protocol import EntryProtocol_pb2 as pb


def connect(port, flt):
    c = Client()
    c.connect(host="127.0.0.1", port=port)
    c.check_valid(username=b"", password=b"")
    c.subscribe(client_id=b"1001", destination=b"example", filter=flt.encode())
    return c


def columns(cols):
    return [[c.name, c.isNull, c.value, c.sqlType, c.mysqlType, c.isKey, c.updated] for c in cols]


def describe(e):
    h = e.header
    d = {"file": h.logfileName, "offset": h.logfileOffset, "entryType": e.entryType,
         "eventType": h.eventType, "schema": h.schemaName, "table": h.tableName,
         "isDdl": False, "rows": []}
    if e.entryType == pb.ROWDATA:
        rc = pb.RowChange()
        rc.ParseFromString(e.storeValue)
        d["isDdl"] = rc.isDdl
        d["rows"] = [{"before": columns(r.beforeColumns), "after": columns(r.afterColumns)}
                     for r in rc.rowDatas]
    return d


def main():
    port, flt, table, batch, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    client = connect(port, flt)
    print("E2E-READY", flush=True)
    log = []
    rolled_back = abandoned = acked_table_row = done = False
    deadline = time.time() + 90
    while not done and time.time() < deadline:
        msg = client.get_without_ack(batch)
        if msg["id"] <= 0 or not msg["entries"]:
            time.sleep(0.1)
            continue
        entries = [describe(e) for e in msg["entries"]]
        item = {"id": msg["id"], "entries": entries}
        if not rolled_back:
            client.rollback(msg["id"])
            rolled_back = True
            item["action"] = "rollback"
        elif acked_table_row and not abandoned:
            client.disconnect()
            client = connect(port, flt)
            abandoned = True
            item["action"] = "abandon"
        else:
            client.ack(msg["id"])
            item["action"] = "ack"
            for d in entries:
                if d["entryType"] == pb.ROWDATA and d["table"] == table and not d["isDdl"]:
                    acked_table_row = True
                    if d["eventType"] == pb.DELETE:
                        done = True
        log.append(item)
    # one more request so the server has read the last CLIENTACK before we close
    client.get_without_ack(1)
    client.disconnect()
    with open(out, "w") as f:
        json.dump({"done": done, "batches": log}, f)


if __name__ == "__main__":
    main()
