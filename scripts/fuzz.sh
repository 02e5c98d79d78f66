#!/usr/bin/env bash
# Run the cargo-fuzz targets of fuzz/ for a short time each, on the STABLE toolchain.
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (default 30 s, every target)
# cargo-fuzz is installed with `cargo install` when missing. Stable rustc works with
# `--sanitizer none` (no -Zsanitizer) plus RUSTC_BOOTSTRAP=1 for the few -Z flags cargo-fuzz
# passes. libFuzzer writes new inputs into a scratch corpus (first corpus dir), never into the
# committed seeds under fuzz/corpus/<target>. Crashes land in fuzz/artifacts/<target>/.
set -euo pipefail
CANAL_SCRIPT_NAME=fuzz
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-30}
shift || true
export PATH=$HOME/.cargo/bin:$PATH
if ! cargo fuzz --version >/dev/null 2>&1; then
    canal_log "installing cargo-fuzz (cargo install --locked cargo-fuzz)"
    cargo install --locked cargo-fuzz >&2
fi
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=${CANAL_FUZZ_TARGET_DIR:-$HOME/.cache/canal-rs/fuzz-target}
cd "$REPO/fuzz"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && mapfile -t targets < <(cargo fuzz list)
SCRATCH=$(mktemp -d /tmp/canal-fuzz.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
for t in "${targets[@]}"; do
    canal_timer_start
    canal_log "building $t"
    cargo fuzz build --sanitizer none --target-dir "$CARGO_TARGET_DIR" "$t" >&2
    mkdir -p "$SCRATCH/$t" "corpus/$t"
    canal_log "running $t for ${SECS}s"
    log=$SCRATCH/$t.log
    if ! cargo fuzz run --sanitizer none --target-dir "$CARGO_TARGET_DIR" "$t" "$SCRATCH/$t" "corpus/$t" -- \
        -max_total_time="$SECS" -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        canal_die "$t failed (crash inputs, if any, are in $REPO/fuzz/artifacts/$t/)"
    fi
    grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" >&2 || true
    canal_log "$t ok ($(canal_elapsed)s incl. build)"
done
