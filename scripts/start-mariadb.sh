#!/usr/bin/env bash
# Start (or reuse) a private MariaDB 10.11 for canal-rs tests and local runs.
#
# Recipe: ../shared/testbed/mariadb.md. ROW binlog, FULL row image + metadata,
# CRC32 checksums, utf8mb4, GTID (always on in MariaDB). Nothing of the packaged
# instance (/etc/mysql, /var/lib/mysql) is used: every command runs --no-defaults.
#
# Environment (all optional):
#   CANAL_MARIADB_DIR   base dir (default /tmp/canal-mariadb; data/ and run/ inside)
#   CANAL_MARIADB_PORT  TCP port on 127.0.0.1 (default 3307)
#   MARIADB_EXTRA_OPTS  extra mariadbd options, e.g. "--log-bin-compress=ON"
#                       (a running server started with other extra options is restarted)
#   RUN_AS              OS user for mariadbd when started as root (default root)
#
# Idempotent: an already running instance is reused. Prints KEY=VALUE lines
# (eval-able) and how to connect. Users: canal/canal (mysql_native_password,
# SELECT, REPLICATION SLAVE, REPLICATION CLIENT) and canal_ed/canal (ed25519);
# database `test`.
set -euo pipefail
CANAL_SCRIPT_NAME=start-mariadb
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
canal_timer_start

BASE=${CANAL_MARIADB_DIR:-/tmp/canal-mariadb}
PORT=${CANAL_MARIADB_PORT:-3307}
EXTRA=${MARIADB_EXTRA_OPTS:-}
RUN_AS=${RUN_AS:-root}
DATA=$BASE/data
RUN=$BASE/run
SOCK=$RUN/mysqld.sock
PIDF=$RUN/mysqld.pid

canal_lock "$BASE.lock"

if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
    canal_apt_install mariadb-server mariadb-client
fi
export PATH=$PATH:/usr/sbin:/usr/bin

cli() { mariadb --no-defaults --socket="$SOCK" -uroot "$@"; }
ping_ok() { mariadb-admin --no-defaults --socket="$SOCK" -uroot ping >/dev/null 2>&1; }

print_info() {
    cat <<INFO
CANAL_TEST_MARIADB=127.0.0.1:$PORT
CANAL_TEST_MARIADB_SOCKET=$SOCK
CANAL_TEST_MARIADB_USER=canal
CANAL_TEST_MARIADB_PASSWORD=canal
CANAL_TEST_MARIADB_ED25519_USER=canal_ed
CANAL_TEST_MARIADB_DATADIR=$DATA
# connect: mariadb --no-defaults -h127.0.0.1 -P$PORT -ucanal -pcanal test
# admin:   mariadb --no-defaults --socket=$SOCK -uroot
# stop:    $(cd "$(dirname "$0")" && pwd)/stop-mariadb.sh
INFO
}

if canal_pid_alive "$PIDF" && ping_ok; then
    if [ "$(cat "$RUN/extra-opts" 2>/dev/null || true)" = "$EXTRA" ]; then
        canal_log "already running (pid $(cat "$PIDF")) on 127.0.0.1:$PORT"
        print_info
        exit 0
    fi
    canal_log "running with other MARIADB_EXTRA_OPTS; restarting"
    canal_stop_pidfile "$PIDF" 60
fi
rm -f "$PIDF" "$SOCK"

if canal_port_busy "$PORT"; then
    canal_die "127.0.0.1:$PORT is taken by another process (set CANAL_MARIADB_PORT)"
fi

mkdir -p "$DATA" "$RUN"
USER_OPT=()
if [ "$(id -u)" -eq 0 ]; then
    USER_OPT=(--user="$RUN_AS")
    [ "$RUN_AS" = root ] || chown -R "$RUN_AS" "$BASE"
fi

if [ ! -d "$DATA/mysql" ]; then
    canal_log "initialising $DATA"
    mariadb-install-db --no-defaults "${USER_OPT[@]}" --datadir="$DATA" \
        --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
        >"$RUN/install-db.log" 2>&1 || { cat "$RUN/install-db.log" >&2; canal_die "mariadb-install-db failed"; }
fi

# shellcheck disable=SC2086 # EXTRA is a list of options
setsid mariadbd --no-defaults "${USER_OPT[@]}" --datadir="$DATA" \
    --bind-address=127.0.0.1 --port="$PORT" --socket="$SOCK" \
    --pid-file="$PIDF" --log-error="$RUN/error.log" \
    --server-id=1 --log-bin=mysql-bin --binlog-format=ROW --binlog-row-image=FULL \
    --binlog-checksum=CRC32 --binlog-row-metadata=FULL \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --skip-name-resolve --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 \
    --max-connections=500 \
    $EXTRA </dev/null >"$RUN/stdout.log" 2>&1 9>&- &
MPID=$!
echo "$MPID" >"$PIDF.launch"
printf '%s' "$EXTRA" >"$RUN/extra-opts"

for ((i = 0; i < 600; i++)); do
    ping_ok && break
    if ! kill -0 "$MPID" 2>/dev/null; then
        tail -n 30 "$RUN/error.log" >&2 || true
        canal_die "mariadbd exited during start-up (log: $RUN/error.log)"
    fi
    sleep 0.05
done
ping_ok || { tail -n 30 "$RUN/error.log" >&2; canal_die "mariadbd not ready after 30 s"; }
# mariadbd writes its own pid file; keep ours in sync with the launched PID.
echo "$MPID" >"$PIDF"
rm -f "$PIDF.launch"

cli <<'SQL'
CREATE USER IF NOT EXISTS 'canal'@'%' IDENTIFIED BY 'canal';
GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'canal'@'%';
CREATE DATABASE IF NOT EXISTS test;
SQL
if [ "$(cli -N -e "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME='ed25519'")" = 0 ]; then
    cli -e "INSTALL SONAME 'auth_ed25519'"
fi
cli -e "CREATE USER IF NOT EXISTS 'canal_ed'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('canal');
        GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'canal_ed'@'%';"

canal_log "ready on 127.0.0.1:$PORT (pid $MPID) in $(canal_elapsed)s"
print_info
