#!/usr/bin/env bash
# Start (or reuse) a private ZooKeeper 3.8 (Debian `zookeeper` package) for canal-rs.
# Recipe: ../shared/testbed/zookeeper.md (java is launched directly; the packaged
# zkServer.sh hard-codes /etc/zookeeper/conf).
#
#   scripts/start-zk.sh              standalone on 127.0.0.1:${CANAL_ZK_PORT:-2181}
#   scripts/start-zk.sh --ensemble   3 nodes on 127.0.0.1:2191,2192,2193 (peers 288n/388n)
#
# Environment: CANAL_ZK_DIR (default /tmp/canal-zk), CANAL_ZK_PORT (standalone, default 2181),
# CANAL_ZK_ENSEMBLE_BASE (default 2190: node n listens on BASE+n, quorum BASE+690+n,
# election BASE+1690+n).
# Idempotent: running nodes are reused. Prints KEY=VALUE lines (eval-able) and how to connect.
set -euo pipefail
CANAL_SCRIPT_NAME=start-zk
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
canal_timer_start

BASE=${CANAL_ZK_DIR:-/tmp/canal-zk}
MODE=standalone
case "${1:-}" in
    --ensemble) MODE=ensemble ;;
    "" | --standalone) ;;
    *) canal_die "usage: $0 [--standalone|--ensemble]" ;;
esac

canal_lock "$BASE.lock"
if [ ! -f /usr/share/java/zookeeper.jar ] || [ ! -f /usr/share/java/slf4j-simple.jar ] \
    || ! command -v socat >/dev/null || ! command -v java >/dev/null; then
    canal_apt_install zookeeper libslf4j-java socat
fi
CP=/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar

# srvr_mode PORT -> prints the Mode: line value (standalone/leader/follower) or nothing.
srvr_mode() {
    echo srvr | socat -T1 - "TCP:127.0.0.1:$1" 2>/dev/null | sed -n 's/^Mode: //p' || true
}

# node DIR PORT [SERVERS]: write zoo.cfg and start one node unless it runs already.
node() {
    local dir=$1 port=$2 servers=${3:-}
    if canal_pid_alive "$dir/zk.pid" && [ -n "$(srvr_mode "$port")" ]; then
        canal_log "node on :$port already running (pid $(cat "$dir/zk.pid"))"
        return 0
    fi
    canal_stop_pidfile "$dir/zk.pid" 10
    canal_port_busy "$port" && canal_die "127.0.0.1:$port is taken by another process"
    mkdir -p "$dir/data"
    cat >"$dir/zoo.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,mntr,cons,dump
maxClientCnxns=0
CFG
    [ -n "$servers" ] && printf '%s\n' "$servers" >>"$dir/zoo.cfg"
    setsid java -Xmx256m -cp "$CP" -Dzookeeper.log.dir="$dir" \
        org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
        >"$dir/zk.log" 2>&1 </dev/null 9>&- &
    echo $! >"$dir/zk.pid"
}

# wait_ready PORT DIR: poll `srvr` until it reports a Mode (ruok answers too early).
wait_ready() {
    local i
    for ((i = 0; i < 1200; i++)); do
        [ -n "$(srvr_mode "$1")" ] && return 0
        canal_pid_alive "$2/zk.pid" || { tail -n 30 "$2/zk.log" >&2; canal_die "zookeeper on :$1 died"; }
        sleep 0.05
    done
    tail -n 30 "$2/zk.log" >&2
    canal_die "zookeeper on :$1 not serving after 60 s"
}

if [ "$MODE" = standalone ]; then
    PORT=${CANAL_ZK_PORT:-2181}
    node "$BASE/standalone" "$PORT"
    wait_ready "$PORT" "$BASE/standalone"
    canal_log "standalone ready on 127.0.0.1:$PORT in $(canal_elapsed)s"
    cat <<INFO
CANAL_TEST_ZK=127.0.0.1:$PORT
# connect: /usr/share/zookeeper/bin/zkCli.sh -server 127.0.0.1:$PORT   (probe: echo srvr | socat - TCP:127.0.0.1:$PORT)
# stop:    $(cd "$(dirname "$0")" && pwd)/stop-zk.sh
INFO
else
    EB=${CANAL_ZK_ENSEMBLE_BASE:-2190}
    SERVERS=$(for n in 1 2 3; do echo "server.$n=127.0.0.1:$((EB + 690 + n)):$((EB + 1690 + n))"; done)
    for n in 1 2 3; do
        mkdir -p "$BASE/ens$n/data"
        echo "$n" >"$BASE/ens$n/data/myid"
        node "$BASE/ens$n" "$((EB + n))" "$SERVERS"
    done
    for n in 1 2 3; do wait_ready "$((EB + n))" "$BASE/ens$n"; done
    canal_log "ensemble ready in $(canal_elapsed)s: $(for n in 1 2 3; do printf ':%s=%s ' "$((EB + n))" "$(srvr_mode "$((EB + n))")"; done)"
    HOSTS="127.0.0.1:$((EB + 1)),127.0.0.1:$((EB + 2)),127.0.0.1:$((EB + 3))"
    cat <<INFO
CANAL_TEST_ZK_ENSEMBLE=$HOSTS
# connect: /usr/share/zookeeper/bin/zkCli.sh -server $HOSTS
# node n (1..3): pid file $BASE/ens<n>/zk.pid, client port $EB+n
# stop:    $(cd "$(dirname "$0")" && pwd)/stop-zk.sh --ensemble
INFO
fi
