#!/usr/bin/env bash
# Start (or reuse) a genuine Oracle MySQL 9.7 server for canal-rs tests.
#
# Debian 12 has no MySQL server package; Debian sid has mysql-server-core 9.7, which
# needs a newer libc, so it runs inside a debootstrap'ed sid chroot (recipe:
# ../shared/testbed/mariadb.md, "Genuine MySQL"). The chroot is built once and cached
# OUTSIDE the repository (~230 MB + 55 MB), so later runs only start mysqld (~1-2 s).
#
# Server: 127.0.0.1:${CANAL_MYSQL9_PORT:-3308}, server-id 1, gtid_mode=ON,
# enforce_gtid_consistency=ON, log-bin, ROW, FULL row image + metadata, CRC32,
# utf8mb4; user canal/canal (caching_sha2_password) with SELECT, REPLICATION SLAVE,
# REPLICATION CLIENT; database `test`.
#
# Environment (all optional):
#   CANAL_MYSQL9_CHROOT  chroot/cache dir (default /var/cache/canal-rs/sid-chroot)
#   CANAL_MYSQL9_PORT    TCP port (default 3308)
#   CANAL_DEBIAN_MIRROR  mirror for debootstrap (default http://deb.debian.org/debian)
#                        (other ports get their own data dir /var/lib/canal-mysql9-PORT in the chroot)
#   MYSQL9_EXTRA_OPTS    extra mysqld options (a running server with other options is restarted)
# Needs root (debootstrap, chroot). Prints KEY=VALUE lines (eval-able) and how to connect.
set -euo pipefail
CANAL_SCRIPT_NAME=start-mysql9
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
canal_timer_start

ROOT=${CANAL_MYSQL9_CHROOT:-/var/cache/canal-rs/sid-chroot}
PORT=${CANAL_MYSQL9_PORT:-3308}
MIRROR=${CANAL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
EXTRA=${MYSQL9_EXTRA_OPTS:-}
# Paths as seen inside the chroot (one data/run dir per port, so instances can coexist).
NAME=canal-mysql9
[ "$PORT" = 3308 ] || NAME=canal-mysql9-$PORT
DATA_IN=/var/lib/$NAME
RUN_IN=/run/$NAME
SOCK_IN=$RUN_IN/mysqld.sock
PIDF=$ROOT$RUN_IN/mysqld.pid

[ "$(id -u)" -eq 0 ] || canal_die "must run as root (debootstrap + chroot)"
canal_lock "$ROOT.lock"

APT_IN=(env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Acquire::Check-Valid-Until=false
        -o Acquire::Retries=3 --no-install-recommends)

build_chroot() {
    local tmp=$ROOT.partial
    canal_apt_install debootstrap
    mkdir -p "$(dirname "$ROOT")"
    if [ ! -f "$tmp/.debootstrap-done" ]; then
        rm -rf "$tmp"
        canal_log "debootstrap sid into $tmp (first run only, ~1 min)"
        debootstrap --variant=minbase sid "$tmp" "$MIRROR" >"$(dirname "$ROOT")/debootstrap.log" 2>&1 || {
            tail -n 30 "$(dirname "$ROOT")/debootstrap.log" >&2
            canal_die "debootstrap failed (log: $(dirname "$ROOT")/debootstrap.log)"
        }
        touch "$tmp/.debootstrap-done"
    fi
    cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
    printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
    chmod +x "$tmp/usr/sbin/policy-rc.d"
    canal_log "installing mysql-server-core + mysql-client-core in the chroot"
    chroot "$tmp" "${APT_IN[@]}" update >&2 || canal_die "apt-get update in the chroot failed"
    chroot "$tmp" "${APT_IN[@]}" install mysql-server-core mysql-client-core >&2 \
        || canal_die "apt-get install in the chroot failed"
    chroot "$tmp" apt-get clean
    chroot "$tmp" /usr/sbin/mysqld --version >"$tmp/.mysqld-version"
    [ -e "$ROOT" ] && rm -rf "${ROOT:?}" # leftovers without .canal-ready are not a usable chroot
    mv "$tmp" "$ROOT"
    touch "$ROOT/.canal-ready"
    canal_log "chroot ready: $(cat "$ROOT/.mysqld-version")"
}

[ -f "$ROOT/.canal-ready" ] || build_chroot

# shellcheck disable=SC2120 # used with stdin only
cli() { chroot "$ROOT" mysql --no-defaults --socket="$SOCK_IN" -uroot "$@"; }
ping_ok() { chroot "$ROOT" mysqladmin --no-defaults --socket="$SOCK_IN" -uroot ping >/dev/null 2>&1; }

print_info() {
    cat <<INFO
CANAL_TEST_MYSQL9=127.0.0.1:$PORT
CANAL_TEST_MYSQL9_SOCKET=$ROOT$SOCK_IN
CANAL_TEST_MYSQL9_USER=canal
CANAL_TEST_MYSQL9_PASSWORD=canal
CANAL_TEST_MYSQL9_DATADIR=$ROOT$DATA_IN
# connect: chroot $ROOT mysql --no-defaults -h127.0.0.1 -P$PORT -ucanal -pcanal test
#          (host clients need caching_sha2_password support: TLS or RSA key exchange)
# admin:   chroot $ROOT mysql --no-defaults --socket=$SOCK_IN -uroot
# stop:    CANAL_MYSQL9_PORT=$PORT $(cd "$(dirname "$0")" && pwd)/stop-mysql9.sh
INFO
}

if canal_pid_alive "$PIDF" && ping_ok; then
    if [ "$(cat "$ROOT$RUN_IN/extra-opts" 2>/dev/null || true)" = "$EXTRA" ]; then
        canal_log "already running (pid $(cat "$PIDF")) on 127.0.0.1:$PORT"
        print_info
        exit 0
    fi
    canal_log "running with other MYSQL9_EXTRA_OPTS; restarting"
    canal_stop_pidfile "$PIDF" 60
fi
rm -f "$PIDF" "$ROOT$SOCK_IN"
canal_port_busy "$PORT" && canal_die "127.0.0.1:$PORT is taken by another process (set CANAL_MYSQL9_PORT)"

mkdir -p "$ROOT$RUN_IN"
if [ ! -d "$ROOT$DATA_IN/mysql" ]; then
    canal_log "initialising $ROOT$DATA_IN"
    rm -rf "$ROOT$DATA_IN"
    chroot "$ROOT" mysqld --no-defaults --initialize-insecure --user=root --datadir="$DATA_IN" \
        >"$ROOT$RUN_IN/initialize.log" 2>&1 || {
        tail -n 30 "$ROOT$RUN_IN/initialize.log" >&2
        canal_die "mysqld --initialize-insecure failed"
    }
fi

# shellcheck disable=SC2086 # EXTRA is a list of options
setsid chroot "$ROOT" mysqld --no-defaults --user=root --datadir="$DATA_IN" \
    --bind-address=127.0.0.1 --port="$PORT" --socket="$SOCK_IN" --mysqlx=OFF \
    --pid-file="$RUN_IN/mysqld.pid" --log-error="$RUN_IN/error.log" --secure-file-priv= \
    --server-id=1 --log-bin=mysql-bin --binlog-format=ROW --binlog-row-image=FULL \
    --binlog-checksum=CRC32 --binlog-row-metadata=FULL \
    --gtid-mode=ON --enforce-gtid-consistency=ON \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_0900_ai_ci \
    --skip-name-resolve --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 \
    --max-connections=500 \
    $EXTRA </dev/null >"$ROOT$RUN_IN/stdout.log" 2>&1 9>&- &
MPID=$!
printf '%s' "$EXTRA" >"$ROOT$RUN_IN/extra-opts"

for ((i = 0; i < 1200; i++)); do
    ping_ok && break
    if ! kill -0 "$MPID" 2>/dev/null; then
        tail -n 30 "$ROOT$RUN_IN/error.log" >&2 || true
        canal_die "mysqld exited during start-up (log: $ROOT$RUN_IN/error.log)"
    fi
    sleep 0.1
done
ping_ok || { tail -n 30 "$ROOT$RUN_IN/error.log" >&2; canal_die "mysqld not ready after 120 s"; }
echo "$MPID" >"$PIDF"

cli <<'SQL'
CREATE USER IF NOT EXISTS 'canal'@'%' IDENTIFIED WITH caching_sha2_password BY 'canal';
GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'canal'@'%';
CREATE DATABASE IF NOT EXISTS test;
SQL

canal_log "ready on 127.0.0.1:$PORT (pid $MPID) in $(canal_elapsed)s"
print_info
