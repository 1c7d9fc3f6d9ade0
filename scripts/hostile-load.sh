#!/usr/bin/env bash
# Long form of the hostile-plugins-under-load suite: normal quotes through the
# WASM auto rater from 3 clients, first alone, then while every bad behaviour
# of the `faulty` plugin is uploaded and called over HTTP; each bad call must
# get its typed problem. Prints p50/p99 of the normal quotes in both phases
# and the p99 ratio (target: within 2x). Release build, 20 s per phase.
#   scripts/hostile-load.sh [seconds-per-phase]
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
PREMIA_HOSTILE_SECONDS="${1:-20}" cargo test --release -p premia-tests hostile -- --nocapture
