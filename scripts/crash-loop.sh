#!/usr/bin/env bash
# The long form of the crash loop (docs/reliability.md): many rounds of
# concurrent commands against a `premia serve` process killed with `kill -9`.
#
#   scripts/crash-loop.sh [rounds] [seed]      # default 100 rounds, a fresh seed
#
# The server is the test binary re-run as `premia serve` (the same
# `premia::cli::run` the binary calls), built in release so that more rounds
# fit in an hour (CI's short form runs the debug build). To run the `premia`
# binary itself, build it and set PREMIA_BIN=target/release/premia (a second
# build of the dependencies: `-p premia` alone unifies features differently).
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2
export PREMIA_CRASH_ROUNDS="${1:-100}"
if [ -n "${2:-}" ]; then export PREMIA_CRASH_SEED="$2"; fi
cargo test --release -p premia-tests --test integration crash_loop:: -- --nocapture --test-threads=1
