#!/usr/bin/env bash
# Stop the MySQL 9.7 server started by start-mysql9.sh (idempotent). The cached chroot stays.
#   CANAL_MYSQL9_CHROOT, CANAL_MYSQL9_PORT as for start-mysql9.sh
#   --purge       also delete the server's data directory (not the chroot)
#   --purge-all   also delete the whole cached chroot
set -euo pipefail
CANAL_SCRIPT_NAME=stop-mysql9
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
ROOT=${CANAL_MYSQL9_CHROOT:-/var/cache/canal-rs/sid-chroot}
PORT=${CANAL_MYSQL9_PORT:-3308}
NAME=canal-mysql9
[ "$PORT" = 3308 ] || NAME=canal-mysql9-$PORT
PIDF=$ROOT/run/$NAME/mysqld.pid
canal_lock "$ROOT.lock"
if canal_pid_alive "$PIDF"; then
    canal_stop_pidfile "$PIDF" 60
    canal_log "stopped"
else
    rm -f "$PIDF"
    canal_log "not running"
fi
case "${1:-}" in
    --purge) rm -rf "${ROOT:?}/var/lib/$NAME"; canal_log "removed data dir" ;;
    --purge-all) rm -rf "$ROOT" "$ROOT.partial"; canal_log "removed $ROOT" ;;
    "") ;;
    *) canal_die "usage: $0 [--purge|--purge-all]" ;;
esac
