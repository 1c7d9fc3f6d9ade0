#!/usr/bin/env bash
# Webhook deliveries checked by a real client (scripts/webhooks/verify.py):
# the reference `standardwebhooks` library from PyPI verifies every
# delivery, and a server killed with SIGKILL while it delivers loses none
# (every policy bound is told at least once after the restart).
#   scripts/webhooks-verify.sh [policies before the kill] [after]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/webhooks-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import standardwebhooks' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r scripts/webhooks/requirements.txt
fi
rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
for crate in plugins/auto-rater plugins/installment-fee; do
  cargo build --quiet --target wasm32-wasip2 --profile plugin \
    --manifest-path "$crate/Cargo.toml" --target-dir target/plugins
done
cargo build --quiet -p premia
"$venv/bin/python" scripts/webhooks/verify.py ./target/debug/premia "${1:-20}" "${2:-10}"
