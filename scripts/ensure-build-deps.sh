#!/usr/bin/env bash
# Make sure the machine can build canal-rs: a C toolchain (for -sys crates) and a stable Rust
# toolchain with clippy and rustfmt (installed with rustup when cargo is missing). Idempotent.
set -euo pipefail
CANAL_SCRIPT_NAME=ensure-build-deps
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
command -v cc >/dev/null && command -v pkg-config >/dev/null && command -v curl >/dev/null \
    || canal_apt_install build-essential pkg-config ca-certificates curl
export PATH=$HOME/.cargo/bin:$PATH
if ! command -v cargo >/dev/null; then
    canal_log "installing the stable Rust toolchain with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
        | sh -s -- -y --profile minimal --default-toolchain stable -c clippy -c rustfmt >&2
fi
for c in clippy rustfmt; do
    if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
        canal_log "rustup component add $c"
        rustup component add "$c" >&2
    fi
done
