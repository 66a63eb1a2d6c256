#!/usr/bin/env bash
# systemd-analyze verify on the unit group, with ExecStart pointing at the built binary.
# Usage: verify.sh <path to nats-server>.  Skips (exit 77) where systemd-analyze is missing.
set -euo pipefail
bin=$1
src=$(cd "$(dirname "$0")/../../systemd" && pwd)
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# raftd is checked against a stand-in executable until its own exists in the build.
for f in nats.target nats-node.service nats-broker@.service nats-storaged.service \
         nats-raftd.service; do
  sed -e "s#/usr/local/bin/nats-server#$bin#g" -e "s#/usr/local/bin/nats-storaged#$bin#g" \
      -e "s#/usr/local/bin/nats-raftd#$bin#g" "$src/$f" >"$work/$f"
done
cd "$work"
# An instance of the template, as scripts/install-systemd enables them.
ln -s nats-broker@.service nats-broker@0.service
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify ./nats.target ./nats-node.service \
      ./nats-broker@0.service ./nats-storaged.service ./nats-raftd.service 2>&1) ||
  { echo "$out"; exit 1; }
if [ -n "$out" ]; then echo "$out"; exit 1; fi
echo "systemd units verified"
