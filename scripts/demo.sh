#!/usr/bin/env bash
# Builds the example plugins and the premia CLI, then checks and runs the auto
# rater in the production sandbox on a golden request.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2
for crate in plugins/auto-rater plugins/installment-fee plugins/faulty; do
  cargo build --quiet --target wasm32-wasip2 --profile plugin \
    --manifest-path "$crate/Cargo.toml" --target-dir target/plugins
done
cargo build --quiet --release -p premia
wasm=target/plugins/wasm32-wasip2/plugin
./target/release/premia plugin check "$wasm/auto_rater.wasm"
./target/release/premia plugin run "$wasm/auto_rater.wasm" \
  --input plugins/auto-rater/golden/four-vehicles-rural.request.json \
  --tables plugins/auto-rater/tables
