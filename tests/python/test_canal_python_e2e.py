"""End to end with an unchanged Canal client: the shipped conf/ (copied to a temp dir, ports moved
by -D overrides), our canal-server binary, the sandbox MariaDB, and canal-python 0.4 from PyPI.
Rows inserted after the client subscribed must arrive as Canal entries with the right values.

Needs CANAL_TEST_SERVER_BIN (path of canal-server; `make test` builds it) and CANAL_TEST_MARIADB
(+ CANAL_TEST_MARIADB_SOCKET for the root connection that writes the rows)."""
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pymysql
import pytest

from conftest import need_env

REPO = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"canal-server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"canal-server did not listen on {port} within {timeout}s")


@pytest.fixture
def server(tmp_path):
    binary = os.environ.get("CANAL_TEST_SERVER_BIN")
    if not binary:
        need_env("CANAL_TEST_SERVER_BIN")  # skips, or fails under CI
    host, port = need_env("CANAL_TEST_MARIADB")
    conf = tmp_path / "conf"
    shutil.copytree(REPO / "conf", conf, ignore=shutil.ignore_patterns("meta.dat", "parse.dat", "*.db"))
    canal_port, metrics_port, admin_port = free_port(), free_port(), free_port()
    args = [binary, "--conf", str(conf), "--logs", str(tmp_path / "logs"),
            f"-Dcanal.port={canal_port}", f"-Dcanal.metrics.pull.port={metrics_port}",
            f"-Dcanal.admin.port={admin_port}",
            f"-Dcanal.instance.master.address={host}:{port}"]
    log = open(tmp_path / "server.out", "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_port(canal_port, proc)
        yield canal_port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if proc.returncode not in (0, -15):
            print((tmp_path / "server.out").read_text(errors="replace")[-4000:])


def root_conn():
    sock = os.environ.get("CANAL_TEST_MARIADB_SOCKET")
    if sock:
        return pymysql.connect(unix_socket=sock, user="root", charset="utf8mb4", autocommit=True)
    host, port = need_env("CANAL_TEST_MARIADB")
    return pymysql.connect(host=host, port=port, user="root", charset="utf8mb4", autocommit=True)


def test_canal_python_receives_rows(server):
    from canal.client import Client
    from canal.protocol import EntryProtocol_pb2 as pb

    table = "e2e_" + uuid.uuid4().hex[:10]
    client = Client()
    client.connect(host="127.0.0.1", port=server)
    client.check_valid(username=b"", password=b"")
    client.subscribe(client_id=b"1001", destination=b"example", filter=b"test\\..*")

    db = root_conn()
    try:
        with db.cursor() as cur:
            cur.execute("CREATE DATABASE IF NOT EXISTS test")
            cur.execute(f"CREATE TABLE test.{table} (id INT PRIMARY KEY, name VARCHAR(32), amount DECIMAL(10,2))")
            cur.execute(f"INSERT INTO test.{table} VALUES (1, 'héllo 😀', 10.50), (2, NULL, -3.00)")
            cur.execute(f"UPDATE test.{table} SET name = 'wörld' WHERE id = 1")

        inserts, updates, ddl = [], [], []
        deadline = time.time() + 30
        while time.time() < deadline and not (inserts and updates):
            message = client.get(100)
            for entry in message["entries"]:
                if entry.entryType != pb.ROWDATA or entry.header.tableName != table:
                    continue
                rc = pb.RowChange()
                rc.ParseFromString(entry.storeValue)
                assert entry.header.schemaName == "test"
                if rc.isDdl:
                    ddl.append(rc.sql)
                    continue
                for row in rc.rowDatas:
                    if rc.eventType == pb.INSERT:
                        inserts.append(row)
                    elif rc.eventType == pb.UPDATE:
                        updates.append(row)
            if not message["entries"]:
                time.sleep(0.2)
        client.disconnect()

        assert any(s.startswith("CREATE TABLE") for s in ddl), ddl
        assert len(inserts) == 2 and len(updates) == 1, (inserts, updates)
        values = [[(c.name, c.isNull, c.value) for c in r.afterColumns] for r in inserts]
        assert values[0] == [("id", False, "1"), ("name", False, "héllo 😀"), ("amount", False, "10.50")]
        # Java Canal renders DECIMAL(10,2) 20.00 as "20.0" (golden/wire/noauth-session.frames,
        # golden/mariadb-10.11/types-numeric: 3.00 -> "3.0"), so -3.00 -> "-3.0".
        assert values[1] == [("id", False, "2"), ("name", True, ""), ("amount", False, "-3.0")]
        # INSERT columns are all marked updated (same captures).
        assert all(c.updated for r in inserts for c in r.afterColumns)
        assert [c.isKey for c in inserts[0].afterColumns] == [True, False, False]
        assert [c.sqlType for c in inserts[0].afterColumns] == [4, 12, 3]
        before = {c.name: c.value for c in updates[0].beforeColumns}
        after = {c.name: (c.value, c.updated) for c in updates[0].afterColumns}
        assert before["name"] == "héllo 😀"
        assert after["name"] == ("wörld", True) and after["id"] == ("1", False)
    finally:
        with db.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS test.{table}")
        db.close()
