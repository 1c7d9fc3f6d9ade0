#!/usr/bin/env bash
# Runs every test of the workspace: unit, property, plugin-native and the
# integration-test binary (which compiles the plugins to wasm in its build
# script, the JavaScript and Python ones with the toolchains installed here),
# with a throw-away PostgreSQL (scripts/postgres.sh) for the PostgreSQL
# store; then runs the engine, API and end-to-end suites a second time with
# PostgreSQL as their store; then fuzzes the API from its OpenAPI document
# with schemathesis (short form, scripts/fuzz-api.sh); and checks webhook
# deliveries with the reference `standardwebhooks` client across a kill -9
# of the server (scripts/webhooks-verify.sh); and reads every warehouse
# export with DuckDB from PyPI, checking balances and sums across them
# (scripts/warehouse-verify.sh, a few seconds once built). The staff
# console's flows run in a real browser (Debian's chromium and
# chromium-driver, installed by scripts/browser.sh; PREMIA_BROWSER_TESTS=1
# makes a missing driver a failure rather than a skip), inside the
# integration binary.
#
# Gates first: `cargo fmt --check`, then (once the plugin toolchains are in
# place, since clippy runs the integration tests' build script too)
# `cargo clippy --workspace --all-targets -- -D warnings`. The toolchain file
# asks for the rustfmt and clippy components; with RUSTUP_AUTO_INSTALL=0 they
# are added here, and when they cannot be (offline machine) the gate says so
# and is skipped rather than failing the run. PREMIA_SKIP_GATES=1 skips them.
#
# Tests run one at a time (`--test-threads=1`): plugin calls have a 100 ms
# wall-clock deadline, and on a 2-core machine tests compiling 12-18 MB
# JavaScript and Python components beside them could starve a call past it.
#   PREMIA_TEST_POSTGRES_URL=postgres://... scripts/test.sh   # use an existing database
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2
# Prints "SKIPPED ..." and returns 1 when cargo's <tool> subcommand is missing.
have_tool() {
  if cargo "$1" --version >/dev/null 2>&1; then return 0; fi
  echo "== SKIPPED: cargo $1 is not installed and could not be added (rustup component add $2); gate not run"
  return 1
}
if [ "${PREMIA_SKIP_GATES:-0}" != 1 ]; then
  rustup component add clippy rustfmt || echo "== rustup could not add clippy/rustfmt (offline?)"
  echo "== gate: cargo fmt --check"
  if have_tool fmt rustfmt; then cargo fmt --all --check; fi
fi
bash scripts/plugin-toolchains.sh
if [ "${PREMIA_SKIP_GATES:-0}" != 1 ]; then
  echo "== gate: cargo clippy --workspace --all-targets -- -D warnings"
  if have_tool clippy clippy; then cargo clippy --workspace --all-targets -- -D warnings; fi
fi
if [ -z "${PREMIA_TEST_POSTGRES_URL:-}" ]; then
  PREMIA_TEST_POSTGRES_URL="$(bash scripts/postgres.sh start)"
  trap 'bash scripts/postgres.sh stop' EXIT
fi
export PREMIA_TEST_POSTGRES_URL
echo "== a headless Chromium for the console's browser tests (scripts/browser.sh)"
bash scripts/browser.sh install
export PREMIA_BROWSER_TESTS=1
cargo test --workspace "$@" -- --test-threads=1
echo "== the same suites on PostgreSQL (PREMIA_TEST_BACKEND=postgres)"
PREMIA_TEST_BACKEND=postgres cargo test --workspace --lib -- --test-threads=1 engine:: api::tests
PREMIA_TEST_BACKEND=postgres cargo test --workspace --test integration -- --test-threads=1 api_server
echo "== API fuzzing, short form (schemathesis from the OpenAPI document)"
bash scripts/fuzz-api.sh
echo "== webhook deliveries verified by standardwebhooks (PyPI), across a kill -9"
bash scripts/webhooks-verify.sh
echo "== warehouse exports read by DuckDB (PyPI): balances and sums across datasets"
bash scripts/warehouse-verify.sh
