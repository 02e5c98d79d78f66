#!/usr/bin/env bash
# Stop ZooKeeper nodes started by start-zk.sh (idempotent).
#   scripts/stop-zk.sh             standalone
#   scripts/stop-zk.sh --ensemble  the 3-node ensemble
#   scripts/stop-zk.sh --all       both
# Add --purge (as 2nd argument, or alone = standalone) to delete their data too.
set -euo pipefail
CANAL_SCRIPT_NAME=stop-zk
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
BASE=${CANAL_ZK_DIR:-/tmp/canal-zk}
dirs=()
purge=0
for a in "$@"; do
    case "$a" in
        --ensemble) dirs+=("$BASE/ens1" "$BASE/ens2" "$BASE/ens3") ;;
        --all) dirs+=("$BASE/standalone" "$BASE/ens1" "$BASE/ens2" "$BASE/ens3") ;;
        --standalone) dirs+=("$BASE/standalone") ;;
        --purge) purge=1 ;;
        *) canal_die "usage: $0 [--standalone|--ensemble|--all] [--purge]" ;;
    esac
done
[ ${#dirs[@]} -eq 0 ] && dirs=("$BASE/standalone")
canal_lock "$BASE.lock"
for d in "${dirs[@]}"; do
    if canal_pid_alive "$d/zk.pid"; then
        canal_stop_pidfile "$d/zk.pid" 15
        canal_log "stopped $(basename "$d")"
    else
        rm -f "$d/zk.pid"
        canal_log "$(basename "$d") not running"
    fi
    [ $purge = 1 ] && rm -rf "$d"
done
exit 0
