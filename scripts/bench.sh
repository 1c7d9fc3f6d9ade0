#!/usr/bin/env bash
# Builds the example plugins to wasm, then runs the criterion benchmarks.
#   scripts/bench.sh            # all benches
#   scripts/bench.sh plugin     # one bench: plugin | billing
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
for crate in plugins/auto-rater plugins/installment-fee plugins/faulty; do
  cargo build --quiet --target wasm32-wasip2 --profile plugin \
    --manifest-path "$crate/Cargo.toml" --target-dir target/plugins
done
if [ $# -gt 0 ]; then
  cargo bench -p premia --bench "$1"
else
  cargo bench -p premia
fi
