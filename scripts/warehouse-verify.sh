#!/usr/bin/env bash
# The warehouse exports read by DuckDB (scripts/warehouse/verify.py): a
# server with the demo tenant, a small book built through the API, every
# export fetched as Parquet and CSV and checked with `duckdb` from PyPI
# (balances, sums across datasets, typed money columns, cursor loads).
#   scripts/warehouse-verify.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/warehouse-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r scripts/warehouse/requirements.txt
fi
rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
for crate in plugins/auto-rater plugins/installment-fee; do
  cargo build --quiet --target wasm32-wasip2 --profile plugin \
    --manifest-path "$crate/Cargo.toml" --target-dir target/plugins
done
cargo build --quiet -p premia
"$venv/bin/python" scripts/warehouse/verify.py ./target/debug/premia
