#!/usr/bin/env bash
# Tests bin/startup.sh, bin/stop.sh and bin/restart.sh in a scratch copy of the layout.
# The server is replaced by a stand-in through CANAL_SERVER_BIN: a small bash program that
# records its arguments and working directory, prints a line, and on SIGTERM waits 2 s before
# exiting (so stop.sh's polling is exercised). Expected texts come from Java Canal's scripts
# (../shared/compat/operations.md §6). Usage: tests/ops/scripts_test.sh (exit 0 = pass).
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
fail=0
cleanup() {
    if [ -f "$work/base/bin/canal.pid" ]; then
        kill -9 "$(cat "$work/base/bin/canal.pid")" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

check() { # description, command...
    local what=$1
    shift
    if "$@"; then
        echo "ok   - $what"
    else
        echo "FAIL - $what"
        fail=1
    fi
}

base=$work/base
mkdir -p "$base/bin" "$base/conf"
cp "$repo/bin/startup.sh" "$repo/bin/stop.sh" "$repo/bin/restart.sh" "$base/bin/"
echo "canal.port = 11111" > "$base/conf/canal.properties"
echo "canal.port = 11111" > "$base/conf/canal_local.properties"
cat > "$work/fake-server" <<'FAKE'
#!/usr/bin/env bash
{ pwd; printf '%s\n' "$@"; } > "$FAKE_RECORD"
echo "fake canal-server up"
trap 'sleep 2; exit 0' TERM
while true; do sleep 0.2; done
FAKE
chmod +x "$work/fake-server"
export CANAL_SERVER_BIN=$work/fake-server
export FAKE_RECORD=$work/args

wait_for_file() { for _ in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

out=$(bash "$base/bin/startup.sh" -Dcanal.port=22222 "-Dcanal.instance.filter.regex=a\\..*" 2>&1)
rc=$?
check "startup.sh exits 0" test "$rc" -eq 0
check "pid file written" test -s "$base/bin/canal.pid"
pid=$(cat "$base/bin/canal.pid" 2>/dev/null)
check "process running" kill -0 "$pid"
check "server started (args recorded)" wait_for_file "$work/args"
check "working directory is bin/" test "$(head -1 "$work/args")" = "$base/bin"
check "--conf passed" grep -qx -- "--conf" "$work/args"
check "conf dir passed" grep -qx -- "$base/conf" "$work/args"
check "logs dir passed" grep -qx -- "$base/logs" "$work/args"
check "canal.conf points at canal.properties" grep -qx -- "-Dcanal.conf=$base/conf/canal.properties" "$work/args"
check "-D override passed through" grep -qx -- "-Dcanal.port=22222" "$work/args"
check "-D override with backslash intact" grep -qxF -- "-Dcanal.instance.filter.regex=a\\..*" "$work/args"
check "logs/canal created" test -d "$base/logs/canal"
wait_for_file "$base/logs/canal/canal_stdout.log"
check "stdout appended to canal_stdout.log" grep -q "fake canal-server up" "$base/logs/canal/canal_stdout.log"

out=$(bash "$base/bin/startup.sh" 2>&1)
rc=$?
check "second startup refused (exit 1)" test "$rc" -eq 1
check "second startup message" grep -q "found canal.pid , Please run stop.sh first ,then startup.sh" <<<"$out"
check "still the first process" test "$(cat "$base/bin/canal.pid")" = "$pid"

out=$(bash "$base/bin/stop.sh" 2>&1)
check "stop.sh announces the pid" grep -q "stopping canal $pid ..." <<<"$out"
cost=$(sed -n 's/^Oook! cost:\([0-9]*\)$/\1/p' <<<"$out")
check "stop.sh prints Oook! cost:N" test -n "$cost"
check "stop.sh waited for the slow shutdown (cost >= 1)" test "${cost:-0}" -ge 1
check "process gone" bash -c "! kill -0 $pid 2>/dev/null"
check "pid file removed" test ! -e "$base/bin/canal.pid"

out=$(bash "$base/bin/stop.sh" 2>&1)
check "stop.sh without pid file" grep -qx "canal is not running. exists" <<<"$out"

out=$(bash "$base/bin/startup.sh" nonsense-arg 2>&1)
rc=$?
check "bad parameter refused" test "$rc" -ne 0
check "bad parameter message" grep -qx "THE PARAMETER IS NOT CORRECT.PLEASE CHECK AGAIN." <<<"$out"
check "no pid file after refusal" test ! -e "$base/bin/canal.pid"

rm -f "$work/args"
bash "$base/bin/startup.sh" >/dev/null 2>&1
pid1=$(cat "$base/bin/canal.pid")
out=$(bash "$base/bin/restart.sh" local -Dcanal.port=33333 2>&1)
check "restart.sh stopped the old process" grep -q "stopping canal $pid1" <<<"$out"
check "restart.sh wrote a new pid" test -s "$base/bin/canal.pid"
pid2=$(cat "$base/bin/canal.pid" 2>/dev/null)
check "new pid differs" test "$pid1" != "$pid2"
sleep 0.5
check "local uses canal_local.properties" grep -qx -- "-Dcanal.conf=$base/conf/canal_local.properties" "$work/args"
check "restart passes -D overrides" grep -qx -- "-Dcanal.port=33333" "$work/args"

cp "$base/conf/canal.properties" "$work/other.properties"
bash "$base/bin/stop.sh" >/dev/null
bash "$base/bin/startup.sh" "$work/other.properties" >/dev/null 2>&1
sleep 0.5
check "explicit properties file used" grep -qx -- "-Dcanal.conf=$work/other.properties" "$work/args"
bash "$base/bin/stop.sh" >/dev/null

CANAL_SERVER_BIN=$work/missing PATH=/usr/bin:/bin HOME=$work CARGO_TARGET_DIR=$work/none \
    bash "$base/bin/startup.sh" >"$work/out" 2>&1
rc=$?
check "missing binary refused" test "$rc" -ne 0
check "missing binary message" grep -q "canal-server not found" "$work/out"
check "no pid file when the binary is missing" test ! -e "$base/bin/canal.pid"

# The real canal-server, when one is built: started by startup.sh, stopped gracefully by
# stop.sh (SIGTERM -> orderly shutdown markers in logs/canal/canal.log).
real=${CANAL_REAL_SERVER_BIN:-}
if [ -z "$real" ]; then
    for c in "${CARGO_TARGET_DIR:-$HOME/.cache/canal-rs/target}/release/canal-server" \
        "${CARGO_TARGET_DIR:-$HOME/.cache/canal-rs/target}/debug/canal-server"; do
        if [ -x "$c" ]; then real=$c; break; fi
    done
fi
if [ -n "$real" ] && [ -f "$repo/conf/canal.properties" ]; then
    rm -rf "$base/logs"
    cp "$repo/conf/canal.properties" "$base/conf/canal.properties"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 21111)
    CANAL_SERVER_BIN=$real bash "$base/bin/startup.sh" -Dcanal.destinations= -Dcanal.auto.scan=false \
        "-Dcanal.port=$port" -Dcanal.metrics.pull.port= -Dcanal.admin.port= >/dev/null 2>&1
    up=1
    for _ in $(seq 100); do
        grep -q "## the canal server is running now" "$base/logs/canal/canal.log" 2>/dev/null && { up=0; break; }
        sleep 0.2
    done
    check "real canal-server ($real) started by startup.sh" test "$up" -eq 0
    rpid=$(cat "$base/bin/canal.pid" 2>/dev/null)
    check "real canal-server pid alive" kill -0 "${rpid:-0}"
    out=$(bash "$base/bin/stop.sh" 2>&1)
    check "real canal-server stopped (Oook!)" grep -q "^Oook! cost:" <<<"$out"
    check "orderly shutdown logged" grep -q "## canal server is down." "$base/logs/canal/canal.log"
else
    echo "note: skipping the real canal-server part: no built canal-server found"
fi

if [ "$fail" -ne 0 ]; then
    echo "scripts_test: FAILED"
    exit 1
fi
echo "scripts_test: all passed"
