#!/usr/bin/env bash
# The long form of the crash loop (docs/reliability.md): builds the `premia`
# binary, then runs the crash-loop test against it for many rounds of
# concurrent commands and `kill -9`.
#
#   scripts/crash-loop.sh [rounds] [seed]      # default 100 rounds, a fresh seed
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2
rounds="${1:-100}"
cargo build -p premia --bin premia
export PREMIA_BIN="$PWD/target/debug/premia"
export PREMIA_CRASH_ROUNDS="$rounds"
if [ -n "${2:-}" ]; then export PREMIA_CRASH_SEED="$2"; fi
cargo test -p premia-tests --test integration crash_loop:: -- --nocapture --test-threads=1
