#!/usr/bin/env bash
# canal-rs startup.sh: starts canal-server in the background with Java Canal's conventions
# (operations.md §6): pid file bin/canal.pid (refuses to start when it exists), working
# directory bin/, stdout/stderr appended to logs/canal/canal_stdout.log, logs under logs/.
#
# Usage: startup.sh [local | <canal.properties path> | debug <port>] [-Dkey=value ...]
#   (none)        conf/canal.properties
#   local         conf/canal_local.properties
#   <file>        that properties file
#   debug <port>  RUST_LOG=debug (there is no JVM debugger; the port is ignored)
#   -Dkey=value   passed to canal-server (overrides any configuration key, like JVM -D)
# Environment: CANAL_SERVER_BIN (binary to run), CANAL_OPTS (extra canal-server arguments),
# RUST_LOG (log levels).
set -u

case "$(uname)" in
    Linux) bin_abs_path=$(readlink -f "$(dirname "$0")") ;;
    *) bin_abs_path=$(cd "$(dirname "$0")" && pwd) ;;
esac
BASE=$(cd "${bin_abs_path}/.." && pwd)
export BASE
export LANG=${LANG:-en_US.UTF-8}
pid_file=${bin_abs_path}/canal.pid
logs_dir=${BASE}/logs

defines=()
positional=()
for arg in "$@"; do
    case "$arg" in
        -D?*=*) defines+=("$arg") ;;
        -D*) echo "startup.sh: $arg: expected -Dkey=value" >&2; exit 1 ;;
        *) positional+=("$arg") ;;
    esac
done

canal_conf=${BASE}/conf/canal.properties
if [ ${#positional[@]} -eq 2 ]; then
    if [ "${positional[0]}" = "debug" ]; then
        echo "debug mode: RUST_LOG=debug (port ${positional[1]} ignored: canal-rs has no JVM debugger)"
        export RUST_LOG=${RUST_LOG:-debug}
    else
        echo "THE PARAMETER IS NOT CORRECT.PLEASE CHECK AGAIN."
        exit 1
    fi
elif [ ${#positional[@]} -eq 1 ]; then
    if [ "${positional[0]}" = "local" ]; then
        canal_conf=${BASE}/conf/canal_local.properties
    elif [ -f "${positional[0]}" ]; then
        canal_conf=$(cd "$(dirname "${positional[0]}")" && pwd)/$(basename "${positional[0]}")
    else
        echo "THE PARAMETER IS NOT CORRECT.PLEASE CHECK AGAIN."
        exit 1
    fi
elif [ ${#positional[@]} -gt 2 ]; then
    echo "THE PARAMETER IS NOT CORRECT.PLEASE CHECK AGAIN."
    exit 1
fi

if [ -f "$pid_file" ]; then
    echo "found canal.pid , Please run stop.sh first ,then startup.sh" >&2
    exit 1
fi

# The binary: explicit override, next to the scripts, a release build of this tree, the
# shared cargo target directory.
find_bin() {
    local c
    for c in "${CANAL_SERVER_BIN:-}" "${bin_abs_path}/canal-server" \
        "${BASE}/target/release/canal-server" \
        "${CARGO_TARGET_DIR:+${CARGO_TARGET_DIR}/release/canal-server}" \
        "${HOME:-/nonexistent}/.cache/canal-rs/target/release/canal-server"; do
        if [ -n "$c" ] && [ -x "$c" ]; then
            echo "$c"
            return 0
        fi
    done
    return 1
}
server_bin=$(find_bin) || {
    echo "startup.sh: canal-server not found (set CANAL_SERVER_BIN, put it in ${bin_abs_path}, or run: make build)" >&2
    exit 1
}

if [ ! -f "$canal_conf" ]; then
    echo "startup.sh: configuration file $canal_conf does not exist" >&2
    exit 1
fi

mkdir -p "${logs_dir}/canal"
echo "cd to ${bin_abs_path} for workaround relative path"
cd "${bin_abs_path}" || exit 1
echo "LOG CONFIGURATION : RUST_LOG=${RUST_LOG:-info}"
echo "canal conf : ${canal_conf}"
echo "CLASSPATH : ${server_bin}"

# shellcheck disable=SC2086 # CANAL_OPTS is a list of words on purpose
nohup "$server_bin" --conf "${BASE}/conf" --logs "$logs_dir" \
    "-Dcanal.conf=${canal_conf}" ${CANAL_OPTS:-} "${defines[@]}" \
    >> "${logs_dir}/canal/canal_stdout.log" 2>&1 < /dev/null &
echo $! > "$pid_file"
echo "cd to ${bin_abs_path} for continue"
