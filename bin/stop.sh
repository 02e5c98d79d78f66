#!/usr/bin/env bash
# canal-rs stop.sh: SIGTERM to the pid in bin/canal.pid, then waits (polling every second)
# until the process is gone, prints "Oook! cost:{seconds}" and removes the pid file — Java
# Canal's stop.sh conventions. CANAL_STOP_TIMEOUT=<s> (default 0 = wait forever, like Canal)
# sends SIGKILL after that many seconds.
set -u

case "$(uname)" in
    Linux) bin_abs_path=$(readlink -f "$(dirname "$0")") ;;
    *) bin_abs_path=$(cd "$(dirname "$0")" && pwd) ;;
esac
pid_file=${bin_abs_path}/canal.pid

if [ ! -f "$pid_file" ]; then
    echo "canal is not running. exists"
    exit 0
fi

pid=$(tr -cd '0-9' < "$pid_file")
if [ -z "$pid" ]; then
    echo "stop.sh: $pid_file holds no pid; removing it" >&2
    rm -f "$pid_file"
    exit 1
fi
echo -e "$(hostname): stopping canal $pid ... "
kill "$pid" 2>/dev/null

timeout=${CANAL_STOP_TIMEOUT:-0}
loops=0
while kill -0 "$pid" 2>/dev/null; do
    if [ "$timeout" -gt 0 ] && [ "$loops" -ge "$timeout" ]; then
        echo "canal $pid did not stop within ${timeout}s: sending SIGKILL"
        kill -9 "$pid" 2>/dev/null
    fi
    loops=$((loops + 1))
    sleep 1
done
echo "Oook! cost:$loops"
rm -f "$pid_file"
