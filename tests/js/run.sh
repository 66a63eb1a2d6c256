#!/usr/bin/env bash
# End-to-end JetStream tests with the official nats.js client.
#
#   NATS_SERVER_BIN=/path/to/nats-server bash tests/js/run.sh [extra node --test args]
#
# NATS_SERVER_BIN defaults to /usr/sbin/nats-server (the Debian Go server, used as
# the oracle). Installs the npm dependencies (package-lock.json, exact versions)
# when node_modules is missing or older than the lock file. Exit status is the
# test result.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

export NATS_SERVER_BIN="${NATS_SERVER_BIN:-/usr/sbin/nats-server}"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "run.sh: node/npm not found; installing the Debian nodejs and npm packages" >&2
    if [ "$(id -u)" -eq 0 ]; then
        apt-get install -y nodejs npm >&2
    else
        sudo apt-get install -y nodejs npm >&2
    fi
fi

# node_modules is stale when the lock file changed since the last install.
stamp="$here/node_modules/.installed-lock.sha256"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [ ! -d "$here/node_modules" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "run.sh: installing npm dependencies (npm ci)" >&2
    (cd "$here" && npm ci --no-audit --no-fund >&2)
    echo "$want" >"$stamp"
fi

if [ ! -x "$NATS_SERVER_BIN" ]; then
    echo "run.sh: NATS_SERVER_BIN=$NATS_SERVER_BIN is not an executable" >&2
    exit 1
fi
echo "run.sh: server $NATS_SERVER_BIN ($("$NATS_SERVER_BIN" --version 2>&1 | head -1))" >&2

cd "$root"
# --test-timeout: a hung test (or file) fails after 5 minutes instead of blocking the run.
exec node --test --test-concurrency=1 --test-timeout=300000 "$@" tests/js/
