#!/usr/bin/env bash
# Stop the private MariaDB started by start-mariadb.sh (idempotent).
#   CANAL_MARIADB_DIR  base dir (default /tmp/canal-mariadb)
#   --purge            also delete the data directory
set -euo pipefail
CANAL_SCRIPT_NAME=stop-mariadb
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
BASE=${CANAL_MARIADB_DIR:-/tmp/canal-mariadb}
canal_lock "$BASE.lock"
if canal_pid_alive "$BASE/run/mysqld.pid"; then
    canal_stop_pidfile "$BASE/run/mysqld.pid" 60
    canal_log "stopped"
else
    rm -f "$BASE/run/mysqld.pid"
    canal_log "not running"
fi
if [ "${1:-}" = --purge ]; then
    rm -rf "$BASE"
    canal_log "removed $BASE"
fi
