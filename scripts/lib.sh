# shellcheck shell=bash
# Shared helpers for the canal-rs sandbox scripts (sourced, not executed).
# Conventions: machine-readable KEY=VALUE lines and '# ...' hints go to stdout
# (so `eval "$(scripts/start-mariadb.sh)"` works); progress goes to stderr.

canal_log() { printf '[%s] %s\n' "${CANAL_SCRIPT_NAME:-canal}" "$*" >&2; }
canal_die() { canal_log "ERROR: $*"; exit 1; }

# Run a command as root (directly, or through sudo when not root).
canal_as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

# canal_apt_install PKG...: install the Debian packages that are not installed yet.
# `apt-get update` runs only when the package lists are missing or an install fails.
canal_apt_install() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    canal_log "apt-get install ${missing[*]}"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300
               --no-install-recommends)
    if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
        canal_as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update >&2
    fi
    if ! canal_as_root "${apt[@]}" install "${missing[@]}" >&2; then
        canal_log "install failed; running apt-get update and retrying"
        canal_as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update >&2
        canal_as_root "${apt[@]}" install "${missing[@]}" >&2 || canal_die "apt-get install ${missing[*]} failed"
    fi
}

# canal_pid_alive PIDFILE: true when the file names a live process.
canal_pid_alive() {
    local pid
    [ -s "$1" ] || return 1
    pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# canal_stop_pidfile PIDFILE [TIMEOUT_S]: TERM the process, wait, then KILL; removes the file.
canal_stop_pidfile() {
    local f=$1 t=${2:-30} pid i
    if canal_pid_alive "$f"; then
        pid=$(cat "$f")
        kill "$pid" 2>/dev/null || true
        for ((i = 0; i < t * 20; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        if kill -0 "$pid" 2>/dev/null; then
            canal_log "pid $pid still alive after ${t}s, sending KILL"
            kill -9 "$pid" 2>/dev/null || true
            sleep 0.2
        fi
    fi
    rm -f "$f"
}

# canal_port_busy PORT: true when something listens on 127.0.0.1:PORT.
canal_port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# canal_lock FILE: take an exclusive lock for the rest of the script (fd 9).
canal_lock() {
    mkdir -p "$(dirname "$1")"
    exec 9>"$1"
    flock -w 600 9 || canal_die "could not lock $1"
}

# Wall-clock timer: canal_timer_start; ...; canal_log "done in $(canal_elapsed)s"
canal_timer_start() { CANAL_T0=$(date +%s.%N); }
canal_elapsed() { awk -v a="$CANAL_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
