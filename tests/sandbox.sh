#!/usr/bin/env bash
# Sandbox script test: starts a private MariaDB and ZooKeeper through scripts/, checks that they
# serve (SELECT 1 as canal and as canal_ed, binlog settings; ZooKeeper `srvr`), that a second start
# is a no-op reusing the same process, then stops them and checks that they are gone and that a
# second stop is harmless. Uses its own directories and ports so that it never touches the
# sandboxes `make test` (or a developer) runs on the default ports.
#   CANAL_SANDBOX_ENSEMBLE=1  also start/check/stop the 3-node ZooKeeper ensemble (ports 2491-2493,
#                             peers 3181-3183/4181-4183); on by default when CI is set
#   CANAL_TEST_MYSQL9=host:port  also check that MySQL 9.7 (started by make test) accepts canal/canal
set -euo pipefail
cd "$(dirname "$0")/.."
S=scripts
WORK=${CANAL_SANDBOX_TEST_DIR:-/tmp/canal-sandbox-test}
export CANAL_MARIADB_DIR=$WORK/mariadb CANAL_MARIADB_PORT=${CANAL_SANDBOX_MARIADB_PORT:-3397}
export CANAL_ZK_DIR=$WORK/zk CANAL_ZK_PORT=${CANAL_SANDBOX_ZK_PORT:-2497}
export CANAL_ZK_ENSEMBLE_BASE=${CANAL_SANDBOX_ZK_ENSEMBLE_BASE:-2490}
[ -n "${CI:-}" ] && [ "${CI}" != false ] && : "${CANAL_SANDBOX_ENSEMBLE:=1}"
unset MARIADB_EXTRA_OPTS
fails=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else bad "$d"; fi; }
cleanup() {
    $S/stop-mariadb.sh --purge >/dev/null 2>&1 || true
    $S/stop-zk.sh --purge >/dev/null 2>&1 || true
    [ "${CANAL_SANDBOX_ENSEMBLE:-0}" = 1 ] && { $S/stop-zk.sh --ensemble --purge >/dev/null 2>&1 || true; }
    rm -rf "$WORK"
}
trap cleanup EXIT

t0=$(date +%s.%N)
out=$($S/start-mariadb.sh) || { echo "FAIL - start-mariadb.sh"; exit 1; }
t1=$(date +%s.%N)
echo "$out" | grep -qx "CANAL_TEST_MARIADB=127.0.0.1:$CANAL_MARIADB_PORT" && ok "start-mariadb prints address" \
    || bad "start-mariadb output: $out"
pid=$(cat "$CANAL_MARIADB_DIR/run/mysqld.pid")
q() { mariadb --no-defaults -h127.0.0.1 -P"$CANAL_MARIADB_PORT" -N -B "$@"; }
[ "$(q -ucanal -pcanal -e 'SELECT 1')" = 1 ] && ok "canal/canal: SELECT 1" || bad "canal/canal SELECT 1"
[ "$(q -ucanal_ed -pcanal -e 'SELECT CURRENT_USER()')" = 'canal_ed@%' ] && ok "canal_ed (ed25519) login" \
    || bad "canal_ed login"
got=$(q -ucanal -pcanal -e 'SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata, @@binlog_checksum, @@character_set_server')
[ "$got" = "$(printf '1\tROW\tFULL\tFULL\tCRC32\tutf8mb4')" ] && ok "binlog settings" || bad "binlog settings: $got"
q -ucanal -pcanal -e 'SHOW GRANTS' | grep -q 'REPLICATION SLAVE' && ok "canal has REPLICATION SLAVE" || bad "grants"
check "database test exists" q -ucanal -pcanal test -e 'SELECT 1'
check "SHOW MASTER STATUS as canal" sh -c "mariadb --no-defaults -h127.0.0.1 -P$CANAL_MARIADB_PORT -ucanal -pcanal -N -e 'SHOW MASTER STATUS' | grep -q mysql-bin"
$S/start-mariadb.sh >/dev/null
[ "$(cat "$CANAL_MARIADB_DIR/run/mysqld.pid")" = "$pid" ] && ok "second start reuses pid $pid" || bad "second start restarted"

t2=$(date +%s.%N)
out=$($S/start-zk.sh) || { echo "FAIL - start-zk.sh"; exit 1; }
t3=$(date +%s.%N)
echo "$out" | grep -qx "CANAL_TEST_ZK=127.0.0.1:$CANAL_ZK_PORT" && ok "start-zk prints address" || bad "start-zk output: $out"
echo srvr | socat -T2 - "TCP:127.0.0.1:$CANAL_ZK_PORT" | grep -qx 'Mode: standalone' && ok "zk srvr: standalone" \
    || bad "zk srvr"
zpid=$(cat "$CANAL_ZK_DIR/standalone/zk.pid")
$S/start-zk.sh >/dev/null
[ "$(cat "$CANAL_ZK_DIR/standalone/zk.pid")" = "$zpid" ] && ok "second zk start reuses pid" || bad "zk restarted"

if [ "${CANAL_SANDBOX_ENSEMBLE:-0}" = 1 ]; then
    $S/start-zk.sh --ensemble >/dev/null
    modes=$(for p in $((CANAL_ZK_ENSEMBLE_BASE + 1)) $((CANAL_ZK_ENSEMBLE_BASE + 2)) $((CANAL_ZK_ENSEMBLE_BASE + 3)); do echo srvr | socat -T2 - TCP:127.0.0.1:$p | sed -n 's/^Mode: //p'; done | sort | tr '\n' ' ')
    [ "$modes" = "follower follower leader " ] && ok "ensemble: $modes" || bad "ensemble modes: $modes"
    $S/stop-zk.sh --ensemble >/dev/null
fi

if [ -n "${CANAL_TEST_MYSQL9:-}" ]; then
    got=$(mariadb --no-defaults -h"${CANAL_TEST_MYSQL9%:*}" -P"${CANAL_TEST_MYSQL9#*:}" -ucanal -pcanal -N -B \
        -e 'SELECT @@version, @@gtid_mode, @@binlog_row_metadata' 2>&1 || true)
    case "$got" in 9.7*ON*FULL*) ok "MySQL 9.7 at $CANAL_TEST_MYSQL9: $got" ;; *) bad "MySQL 9.7: $got" ;; esac
fi

$S/stop-mariadb.sh >/dev/null 2>&1
kill -0 "$pid" 2>/dev/null && bad "mariadbd $pid still alive after stop" || ok "stop-mariadb stopped pid $pid"
check "stop-mariadb again is harmless" $S/stop-mariadb.sh
$S/stop-zk.sh >/dev/null 2>&1
kill -0 "$zpid" 2>/dev/null && bad "zookeeper $zpid still alive after stop" || ok "stop-zk stopped pid $zpid"
check "stop-zk again is harmless" $S/stop-zk.sh
# A restart on existing data is fast and keeps the users.
$S/start-mariadb.sh >/dev/null && [ "$(q -ucanal -pcanal -e 'SELECT 1')" = 1 ] && ok "restart on existing datadir" \
    || bad "restart on existing datadir"

printf 'timings: start-mariadb (fresh datadir) %.2fs, start-zk %.2fs\n' \
    "$(echo "$t1 - $t0" | bc)" "$(echo "$t3 - $t2" | bc)"
[ $fails = 0 ] && echo "sandbox: all checks passed" || { echo "sandbox: $fails check(s) failed"; exit 1; }
