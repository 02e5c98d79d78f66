#!/usr/bin/env bash
# Install everything `make test` needs that is not there yet (idempotent, quick when done):
#   - Debian packages: MariaDB server/client, ZooKeeper + slf4j + socat, debootstrap, prometheus (promtool),
#     python3-venv, and build tools;
#   - a Python venv at $CANAL_VENV (default <repo>/.venv) with tests/python/requirements.txt
#     (canal-python 0.4 + protobuf 3.20.3, pytest, pymysql, kazoo).
# Prints CANAL_TEST_PYTHON=<venv python>.
set -euo pipefail
CANAL_SCRIPT_NAME=install-test-deps
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
canal_timer_start
REPO=$(cd "$(dirname "$0")/.." && pwd)
VENV=${CANAL_VENV:-$REPO/.venv}
REQ=$REPO/tests/python/requirements.txt

canal_apt_install mariadb-server mariadb-client zookeeper libslf4j-java socat debootstrap shellcheck bc prometheus \
    python3 python3-venv build-essential pkg-config ca-certificates curl

# Prefer the system interpreter (python3-venv installed above); fall back to whatever python3 is on PATH.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

stamp=$VENV/.canal-requirements
if [ -x "$VENV/bin/python" ] && cmp -s "$REQ" "$stamp"; then
    canal_log "venv up to date: $VENV"
else
    if [ ! -x "$VENV/bin/python" ]; then
        canal_log "creating venv $VENV"
        "$PY" -m venv "$VENV" >&2
        "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip >&2
    fi
    canal_log "pip install -r $REQ"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ" >&2
    # Fail now rather than in the tests if canal-python cannot import its generated classes.
    "$VENV/bin/python" -c 'import canal.client, canal.protocol.EntryProtocol_pb2' \
        || canal_die "canal-python does not import in $VENV"
    cp "$REQ" "$stamp"
fi
canal_log "done in $(canal_elapsed)s"
echo "CANAL_TEST_PYTHON=$VENV/bin/python"
