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
# The JavaScript and Python auto raters, for the `languages` group of the
# plugin bench.
if [ $# -eq 0 ] || [ "$1" = plugin ]; then
  bash scripts/plugin-toolchains.sh
  mkdir -p target/plugins/lang
  node tools/js/componentize.mjs plugins/auto-rater-js/src/index.js wit/since_v0.1.0 rater \
    target/plugins/lang/auto_rater_js.wasm
  tools/python/.venv/bin/componentize-py -d wit/since_v0.1.0 -w rater componentize --stub-wasi \
    -p plugins/auto-rater-py app -o target/plugins/lang/auto_rater_py.wasm >/dev/null
fi
if [ $# -gt 0 ]; then
  cargo bench -p premia --bench "$1"
else
  cargo bench -p premia
fi
