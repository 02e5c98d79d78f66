#!/usr/bin/env bash
# Everything `make test` does, in order (see README.md):
#   1. install test needs (apt packages, .venv with canal-python) and the Rust toolchain;
#   2. shellcheck of the shell scripts; cargo fmt --check (workspace and fuzz/);
#   3. start the sandboxes: MariaDB 10.11 (:3307, default options), ZooKeeper standalone (:2181)
#      and 3-node ensemble (:2191-2193), MySQL 9.7 chroot (:3308; built in the background on
#      first use while Rust compiles);
#   4. cargo clippy -D warnings, cargo test --workspace (sandbox addresses in CANAL_TEST_*);
#   5. Python tests (pytest tests/python, incl. canal-python against our debug canal-server)
#      and the sandbox script test (tests/sandbox.sh);
#   6. short fuzzing (scripts/fuzz.sh, FUZZ_SECONDS each, default 30; FUZZ_SECONDS=0 skips).
# The sandboxes are stopped at the end, also on failure. Every step's wall time is printed.
# Development aid: CANAL_TEST_SKIP="fmt clippy" skips steps by name (shellcheck, fmt, clippy,
# cargo-test, python, sandbox, fuzz); ports/dirs of the sandboxes follow the scripts' variables.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
S=$REPO/scripts
export PATH=$HOME/.cargo/bin:$PATH
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/canal-rs/target}
# No incremental caches: a test run builds each workspace crate once, and the caches (5+ GB)
# only fill the disk of a target dir that is reused between runs.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
export CANAL_SHARED_DIR=${CANAL_SHARED_DIR:-$(cd "$REPO/.." && pwd)/shared}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
LOGDIR=${CANAL_TEST_LOGDIR:-$REPO/logs/make-test}
mkdir -p "$LOGDIR"
T0=$(date +%s)

step() { printf '\n=== [%4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
skip() { case " ${CANAL_TEST_SKIP:-} " in *" $1 "*) echo "(skipped: CANAL_TEST_SKIP)"; return 0 ;; esac; return 1; }
MYSQL9_PID=
cleanup() {
    local rc=$?
    step "stopping sandboxes"
    [ -n "$MYSQL9_PID" ] && wait "$MYSQL9_PID" 2>/dev/null || true
    "$S/stop-mariadb.sh" || true
    "$S/stop-zk.sh" --all || true
    "$S/stop-mysql9.sh" || true
    if [ $rc = 0 ]; then step "make test: PASSED"; else step "make test: FAILED (exit $rc)"; fi
    exit $rc
}
trap cleanup EXIT

step "build and test dependencies"
"$S/ensure-build-deps.sh"
eval "$("$S/install-test-deps.sh")"
export CANAL_TEST_PYTHON
[ -d "$CANAL_SHARED_DIR/golden" ] || echo "warning: $CANAL_SHARED_DIR has no golden/ (tests will skip or fail under CI)"

step "MySQL 9.7 chroot (background; log $LOGDIR/start-mysql9.log)"
"$S/start-mysql9.sh" >"$LOGDIR/mysql9.env" 2>"$LOGDIR/start-mysql9.log" &
MYSQL9_PID=$!

step "shellcheck scripts/ tests/ .ci/"
skip shellcheck || shellcheck -x -S warning "$S"/*.sh "$REPO"/tests/*.sh "$REPO"/.ci/run

step "cargo fmt --check"
skip fmt || { cargo fmt --all -- --check && (cd fuzz && cargo fmt -- --check); }

step "start MariaDB and ZooKeeper (standalone + ensemble)"
unset MARIADB_EXTRA_OPTS
eval "$("$S/start-mariadb.sh")"
eval "$("$S/start-zk.sh")"
eval "$("$S/start-zk.sh" --ensemble)"
# CANAL_ZK_DIR / CANAL_ZK_ENSEMBLE_BASE let tests find node pid files and restart killed nodes.
export CANAL_ZK_DIR=${CANAL_ZK_DIR:-/tmp/canal-zk} CANAL_ZK_ENSEMBLE_BASE=${CANAL_ZK_ENSEMBLE_BASE:-2190}
export CANAL_TEST_MARIADB CANAL_TEST_MARIADB_SOCKET CANAL_TEST_ZK CANAL_TEST_ZK_ENSEMBLE

step "cargo clippy --workspace --all-targets -D warnings"
skip clippy || cargo clippy --workspace --all-targets -- -D warnings

step "cargo test --workspace --no-run"
skip cargo-test || cargo test --workspace --no-run

step "wait for MySQL 9.7"
if ! wait "$MYSQL9_PID"; then
    MYSQL9_PID=
    tail -n 40 "$LOGDIR/start-mysql9.log"
    echo "start-mysql9.sh failed"
    exit 1
fi
MYSQL9_PID=
eval "$(cat "$LOGDIR/mysql9.env")"
export CANAL_TEST_MYSQL9 CANAL_TEST_MYSQL9_SOCKET CANAL_TEST_MYSQL9_DATADIR
grep -h '^\[start-mysql9\] ready' "$LOGDIR/start-mysql9.log" || true

step "cargo test --workspace"
skip cargo-test || cargo test --workspace

step "python tests (canal-python end to end with our canal-server)"
cargo build -p canal-cli --bins
export CANAL_TEST_SERVER_BIN=$CARGO_TARGET_DIR/debug/canal-server
skip python || "$CANAL_TEST_PYTHON" -m pytest -q "$REPO/tests/python"

step "sandbox script test"
skip sandbox || "$REPO/tests/sandbox.sh"

if [ "$FUZZ_SECONDS" != 0 ] && ! skip fuzz; then
    step "short fuzzing (${FUZZ_SECONDS}s per target)"
    "$S/fuzz.sh" "$FUZZ_SECONDS"
fi
