#!/usr/bin/env python3
"""Entry interop helper for crates/protocol/tests/python_interop.rs, using canal-python's
generated classes (canal.protocol.EntryProtocol_pb2, canal-python 0.4 from PyPI).

  entry_interop.py decode FILE   parse FILE as an Entry (+ its storeValue as RowChange) and print
                                 every field that is present, as JSON
  entry_interop.py encode FILE   build the Entry described in ENCODED below and write its bytes
"""
import json
import sys

from canal.protocol import EntryProtocol_pb2 as pb


def dump(msg):
    """Present fields only (ListFields), by proto field name; bytes as hex, enums as numbers."""
    out = {}
    for fd, value in msg.ListFields():
        if fd.label == fd.LABEL_REPEATED:
            out[fd.name] = [conv(fd, v) for v in value]
        else:
            out[fd.name] = conv(fd, value)
    return out


def conv(fd, v):
    if fd.type == fd.TYPE_MESSAGE:
        return dump(v)
    if fd.type == fd.TYPE_BYTES:
        return v.hex()
    return v


def decode(path):
    with open(path, "rb") as f:
        raw = f.read()
    entry = pb.Entry()
    entry.ParseFromString(raw)
    out = {"entry": dump(entry)}
    if entry.entryType == pb.ROWDATA:
        rc = pb.RowChange()
        rc.ParseFromString(entry.storeValue)
        out["rowChange"] = dump(rc)
    print(json.dumps(out, ensure_ascii=False, sort_keys=True))


def col(index, sql_type, name, value=None, is_key=False, updated=False, mysql_type="", props=()):
    c = pb.Column()
    c.index = index
    c.sqlType = sql_type
    c.name = name
    c.isKey = is_key
    c.updated = updated
    if value is None:
        c.isNull = True
    else:
        c.isNull = False
        c.value = value
    c.mysqlType = mysql_type
    for k, v in props:
        p = c.props.add()
        p.key = k
        p.value = v
    return c


def encode(path):
    # Keep in sync with python_encoded_entry_decodes_in_rust() in python_interop.rs.
    rc = pb.RowChange()
    rc.tableId = 77
    rc.eventType = pb.DELETE
    rc.isDdl = False
    rd = rc.rowDatas.add()
    rd.beforeColumns.extend([
        col(0, 4, "id", "-12", is_key=True, mysql_type="int(11)"),
        col(1, 12, "名前", "Grüße 🚀", mysql_type="varchar(32)", props=[("charset", "utf8mb4")]),
        col(2, -7, "flags", "5", mysql_type="bit(3)"),
        col(3, 3, "amount", None, mysql_type="decimal(10,2)"),
    ])
    p = rc.props.add()
    p.key = "origin"
    p.value = "python"

    e = pb.Entry()
    h = e.header
    h.version = 1
    h.logfileName = "mysql-bin.000042"
    h.logfileOffset = 123456789012
    h.serverId = 3
    h.serverenCode = "UTF-8"
    h.executeTime = 1700000000123
    h.sourceType = pb.MYSQL
    h.schemaName = "shop"
    h.tableName = "orders"
    h.eventLength = 321
    h.eventType = pb.DELETE
    hp = h.props.add()
    hp.key = "rowsCount"
    hp.value = "1"
    h.gtid = "0-1-99"
    e.entryType = pb.ROWDATA
    e.storeValue = rc.SerializeToString()
    with open(path, "wb") as f:
        f.write(e.SerializeToString())


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("decode", "encode"):
        sys.exit(__doc__)
    {"decode": decode, "encode": encode}[sys.argv[1]](sys.argv[2])
