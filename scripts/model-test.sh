#!/usr/bin/env bash
# The long form of the model-based property test (docs/reliability.md):
# many more random command sequences, and longer ones, against the
# reference model.
#
#   scripts/model-test.sh [cases] [max steps]   # default 2000 cases of up to 60 steps
set -euo pipefail
cd "$(dirname "$0")/.."
export PROPTEST_CASES="${1:-2000}"
export PREMIA_MODEL_STEPS="${2:-60}"
cargo test -p premia --lib engine::tests::model -- --nocapture
