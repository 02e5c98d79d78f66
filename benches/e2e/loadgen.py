#!/usr/bin/env python3
"""Load generator for scripts/bench-e2e (pymysql).

Table bench.t: the 12 mixed columns of issue 8 plus `commit_us` (BIGINT, wall-clock
microseconds set by the generator just before the statement that commits the row; 0 in
bulk mode). Every statement below runs in autocommit, so one statement = one transaction.

Modes (all print one JSON object on stdout):
  setup   rotate the binlog (FLUSH BINARY LOGS), drop + create bench.t, print the binlog
          position (file, pos) before any row. The rotation puts the range at the start of a
          fresh file: canal-server's start-up (looking up the configured position reads the
          file from its beginning) then no longer depends on how much other traffic the
          shared sandbox had written into the current file.
  bulk    N rows by multi-row INSERTs (--per-stmt rows each), then --updates single-row
          UPDATEs and --deletes single-row DELETEs (shuffled, --multi statements per
          transaction, sent as one multi-statement; each statement is its own rows event).
          Prints counts, seconds and the binlog position after the load.
  logs    SHOW BINARY LOGS as [[name, size], ...].
  paced   --rate rows/s for --seconds: every tick one INSERT of --per-stmt rows whose
          commit_us is the wall clock right before the statement is sent.
"""
import argparse
import json
import random
import sys
import time

import pymysql
from pymysql.constants import CLIENT

DDL = """CREATE TABLE bench.t (
  id BIGINT NOT NULL PRIMARY KEY,
  i INT NOT NULL,
  su SMALLINT UNSIGNED NOT NULL,
  d DECIMAL(12,2) NOT NULL,
  f DOUBLE NOT NULL,
  v VARCHAR(64) CHARACTER SET utf8mb4 NOT NULL,
  c CHAR(8) NOT NULL,
  dt DATETIME(3) NOT NULL,
  ts TIMESTAMP NULL DEFAULT NULL,
  dd DATE NOT NULL,
  tx TEXT NOT NULL,
  tn TINYINT NOT NULL,
  commit_us BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""

TEXT = ("lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
        "incididunt ut labore et dolore")  # ~100 bytes
WORDS = ["alpha", "beta", "gamma", "délta", "épsilon", "zeta", "ηta", "θeta", "iota", "kappa 🚀"]


def connect(a):
    kw = dict(user=a.user, password=a.password, charset="utf8mb4", autocommit=True,
              client_flag=CLIENT.MULTI_STATEMENTS)
    if a.socket:
        kw["unix_socket"] = a.socket
    else:
        kw["host"], kw["port"] = a.host, a.port
    return pymysql.connect(**kw)


def master_pos(cur):
    try:
        cur.execute("SHOW BINARY LOG STATUS")
    except pymysql.err.MySQLError:
        cur.execute("SHOW MASTER STATUS")
    row = cur.fetchone()
    return {"file": row[0], "pos": int(row[1])}


def row_sql(i, commit_us):
    """One row's VALUES tuple; deterministic in i, cheap (no RNG object per row)."""
    h = (i * 2654435761) & 0xFFFFFFFF
    w = WORDS[i % len(WORDS)]
    return ("(%d,%d,%d,%d.%02d,%.6f,'%s-%d','c%07d','2024-%02d-%02d %02d:%02d:%02d.%03d',"
            "'2024-%02d-%02d %02d:00:00','2024-%02d-%02d','%s %d',%d,%d)" % (
                i, h - 2**31, h & 0xFFFF, (h % 2000000001) - 1000000000, h % 100,
                h / 4294.967296, w, i, i % 10**7,
                1 + i % 12, 1 + i % 28, i % 24, i % 60, (i * 7) % 60, i % 1000,
                1 + i % 12, 1 + i % 28, i % 24, 1 + (i * 5) % 12, 1 + i % 28, TEXT, i,
                (h >> 8) % 256 - 128, commit_us))


INSERT = "INSERT INTO bench.t VALUES "


def setup(a, cur):
    cur.execute("FLUSH BINARY LOGS")
    cur.execute("CREATE DATABASE IF NOT EXISTS bench")
    cur.execute("DROP TABLE IF EXISTS bench.t")
    cur.execute(DDL)
    return {"start": master_pos(cur)}


def bulk(a, cur):
    t0 = time.monotonic()
    n, step = a.rows, a.per_stmt
    for lo in range(a.first_id, a.first_id + n, step):
        hi = min(lo + step, a.first_id + n)
        cur.execute(INSERT + ",".join(row_sql(i, 0) for i in range(lo, hi)))
    t_ins = time.monotonic() - t0
    ids = list(range(a.first_id, a.first_id + n))
    rnd = random.Random(42)
    upd_ids = rnd.sample(ids, min(a.updates, n))
    rest = list(set(ids) - set(upd_ids))
    del_ids = rnd.sample(rest, min(a.deletes, len(rest)))
    stmts = [f"UPDATE bench.t SET i=i+1, v='upd-{k}', f=f*1.5, tx=CONCAT(tx,'!') WHERE id={k}"
             for k in upd_ids]
    stmts += [f"DELETE FROM bench.t WHERE id={k}" for k in del_ids]
    rnd.shuffle(stmts)
    for lo in range(0, len(stmts), a.multi):
        cur.execute("START TRANSACTION;" + ";".join(stmts[lo:lo + a.multi]) + ";COMMIT")
        while cur.nextset():
            pass
    secs = time.monotonic() - t0
    return {"inserted": n, "updated": len(upd_ids), "deleted": len(del_ids),
            "rows": n + len(upd_ids) + len(del_ids), "insert_seconds": round(t_ins, 3),
            "seconds": round(secs, 3), "end": master_pos(cur)}


def logs(a, cur):
    cur.execute("SHOW BINARY LOGS")
    return [[r[0], int(r[1])] for r in cur.fetchall()]


def paced(a, cur):
    per, rate = a.per_stmt, a.rate
    interval = per / rate
    total = int(rate * a.seconds)
    # Pre-build every statement's rows; only commit_us is filled in at send time.
    bodies, i, left = [], a.first_id, total
    while left > 0:
        k = min(per, left)
        bodies.append((INSERT + ",".join(row_sql(j, 0)[:-2] + "{us})" for j in range(i, i + k)), k))
        i += k
        left -= k
    sent, late, exec_us = 0, 0, []
    start = time.monotonic()
    tick = start
    for body, k in bodies:
        now = time.monotonic()
        if now < tick:
            time.sleep(tick - now)
        elif now - tick > interval:
            late += 1
        t_us = time.time_ns() // 1000
        cur.execute(body.replace("{us})", "%d)" % t_us))
        exec_us.append(time.time_ns() // 1000 - t_us)
        sent += k
        tick += interval
    secs = time.monotonic() - start
    exec_us.sort()

    def pct_ms(p):
        return exec_us[max(0, min(len(exec_us) - 1, int(p / 100.0 * len(exec_us) + 0.999999) - 1))] / 1000.0

    # exec_ms_*: round trip of the INSERT that carries commit_us (execution + commit on the
    # source, autocommit); it is part of the measured commit -> client latency.
    return {"rows": sent, "seconds": round(secs, 3), "rate": round(sent / secs, 1),
            "late_ticks": late, "statements": len(exec_us), "exec_ms_p50": pct_ms(50),
            "exec_ms_p99": pct_ms(99), "end": master_pos(cur)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["setup", "bulk", "paced", "logs"])
    p.add_argument("--socket")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3307)
    p.add_argument("--user", default="bench")
    p.add_argument("--password", default="bench")
    p.add_argument("--rows", type=int, default=500_000)
    p.add_argument("--first-id", type=int, default=1)
    p.add_argument("--per-stmt", type=int, default=500)
    p.add_argument("--updates", type=int, default=25_000)
    p.add_argument("--deletes", type=int, default=25_000)
    p.add_argument("--multi", type=int, default=200, help="single-row statements per transaction (bulk updates/deletes)")
    p.add_argument("--rate", type=float, default=10_000)
    p.add_argument("--seconds", type=float, default=10)
    a = p.parse_args()
    conn = connect(a)
    with conn.cursor() as cur:
        out = {"setup": setup, "bulk": bulk, "paced": paced, "logs": logs}[a.mode](a, cur)
    conn.close()
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
