#!/usr/bin/env bash
# Runs every test of the workspace: unit tests, property tests, the plugins'
# native tests and the integration-test binary (which compiles the plugins to
# wasm in its build script, the JavaScript and Python ones with the toolchains
# installed here).
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2
bash scripts/plugin-toolchains.sh
cargo test --workspace "$@"
