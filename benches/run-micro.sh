#!/usr/bin/env bash
# Short runs of every criterion bench of issue 8 (part of `make bench`), one after the other:
#   canal-protocol frame_codec, canal-binlog rows (decode vs mysql_common), canal-parse convert
#   (binlog -> Entry bytes), canal-store store (put/get/ack ITEMSIZE/MEMSIZE), canal-server
#   messages (MESSAGES frame + loopback GET/ACK).
# BENCH_MICRO_SECS (default 3) = criterion measurement time per bench function; output is
# tee'd to $CARGO_TARGET_DIR/bench-micro.txt. Criterion's own reports land in $CARGO_TARGET_DIR/criterion.
set -euo pipefail
CANAL_SCRIPT_NAME=bench-micro
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"
REPO=$(cd "$(dirname "$0")/.." && pwd)
export PATH=$HOME/.cargo/bin:$PATH
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/canal-rs/target}
SECS=${BENCH_MICRO_SECS:-3}
OUT=$CARGO_TARGET_DIR/bench-micro.txt
cd "$REPO"
: >"$OUT"
for pb in canal-protocol:frame_codec canal-binlog:rows canal-parse:convert canal-store:store canal-server:messages; do
    p=${pb%%:*} b=${pb#*:}
    canal_log "cargo bench -p $p --bench $b (load $(cut -d' ' -f1-3 /proc/loadavg))"
    cargo bench -q -p "$p" --bench "$b" -- --warm-up-time 1 --measurement-time "$SECS" 2>&1 | tee -a "$OUT"
done
canal_log "results in $OUT"
