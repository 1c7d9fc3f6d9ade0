#!/usr/bin/env bash
# Premia's main job: builds the example plugins and premia, then serves the
# API over ./data (sled store). On the first run it loads the demo tenant
# (the auto product, the auto-rater and installment-fee plugins) and prints
# an admin API key once. Pass --listen ADDR or --data DIR to change them.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2
for crate in plugins/auto-rater plugins/installment-fee plugins/faulty; do
  cargo build --quiet --target wasm32-wasip2 --profile plugin \
    --manifest-path "$crate/Cargo.toml" --target-dir target/plugins
done
cargo build --quiet --release -p premia
exec ./target/release/premia serve --data data --listen 127.0.0.1:8080 "$@"
