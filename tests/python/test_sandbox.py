"""The sandbox servers started by `make test` are usable by third-party Python clients the way
canal-rs needs them: replication user, ROW/FULL binlog, GTIDs, ZooKeeper ephemeral nodes."""
import pymysql
import pytest


def connect(addr, **kw):
    host, port = addr
    return pymysql.connect(host=host, port=port, user="canal", password="canal", database="test",
                           charset="utf8mb4", **kw)


def one(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()


def test_mariadb_binlog_settings(mariadb_addr):
    with connect(mariadb_addr) as conn:
        row = one(conn, "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, "
                        "@@binlog_row_metadata, @@binlog_checksum, @@character_set_server, @@version")
        assert row[:6] == (1, "ROW", "FULL", "FULL", "CRC32", "utf8mb4")
        assert "MariaDB" in row[6] and row[6].startswith("10.11.")
        status = one(conn, "SHOW MASTER STATUS")
        assert status[0].startswith("mysql-bin.") and status[1] > 0
        assert one(conn, "SELECT @@gtid_binlog_pos") is not None


def test_mysql9_gtid_and_auth(mysql9_addr):
    with connect(mysql9_addr) as conn:
        row = one(conn, "SELECT @@version, @@gtid_mode, @@enforce_gtid_consistency, "
                        "@@binlog_row_metadata, @@binlog_checksum")
        assert row[0].startswith("9.7.") and row[1:] == ("ON", "ON", "FULL", "CRC32")
        grants = " ".join(r[0] for r in _all(conn, "SHOW GRANTS"))
        assert "REPLICATION SLAVE" in grants and "REPLICATION CLIENT" in grants
        status = one(conn, "SHOW BINARY LOG STATUS")
        assert status[0].startswith("mysql-bin.")


def _all(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_zookeeper_ephemeral(zk_hosts):
    from kazoo.client import KazooClient

    zk = KazooClient(hosts=zk_hosts, timeout=10)
    zk.start(timeout=10)
    try:
        zk.ensure_path("/canal-rs-test/destinations/example")
        path = "/canal-rs-test/destinations/example/running"
        zk.create(path, b"{}", ephemeral=True)
        _, stat = zk.get(path)
        assert stat.ephemeralOwner == zk.client_id[0]
    finally:
        zk.stop()
        zk.close()
    zk2 = KazooClient(hosts=zk_hosts, timeout=10)
    zk2.start(timeout=10)
    try:
        assert zk2.exists(path) is None
        zk2.delete("/canal-rs-test", recursive=True)
    finally:
        zk2.stop()
        zk2.close()
