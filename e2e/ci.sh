#!/usr/bin/env bash
# End-to-end browser test for CI, called from the repository root: `bash e2e/ci.sh`.
# Needs target/debug/latchkey built first (`cargo build`, or any `cargo test`), or
# LATCHKEY_BIN pointing at a binary. Installs Debian's Chromium if it is missing; safe to
# run again.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium (Debian package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

if ! command -v node >/dev/null 2>&1; then
  echo "node is not installed: Node.js 20 or newer is needed" >&2
  exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "node $(node --version) is too old: Node.js 20 or newer is needed" >&2
  exit 1
fi

echo "== npm ci (e2e)"
npm ci --no-audit --no-fund --loglevel=error

echo "== browser sign-in test"
node run.mjs
