#!/usr/bin/env bash
# Store benchmark: durable commands per second and latency percentiles over
# HTTP, sled versus PostgreSQL, one host versus two hosts on one database, in
# one run. Each command is a payment (POST /v1/payments): one durable append
# of a payment and its journal entry, acknowledged after fsync (sled) or
# commit with synchronous_commit (PostgreSQL). Load: wrk, 4 threads each
# driving its own tenant (4 tenants, 4 accounts each), 16 connections in all;
# with two hosts, one wrk per host with 8 connections each, either on the
# same 4 tenants (hosts race on every tenant) or on disjoint tenants (host 1
# drives t1 and t2, host 2 t3 and t4, as a load balancer pinning tenants to
# hosts would). Ratios of the same run are printed at the end: the machine
# may be shared, so compare them rather than absolute figures.
#   scripts/bench-store.sh [seconds]          (default 10)
# PostgreSQL: PREMIA_BENCH_POSTGRES_URL, else a throw-away cluster
# (scripts/postgres.sh) on this machine. PREMIA_BENCH_BIN: a premia binary
# to use instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
if ! command -v wrk >/dev/null; then
  (apt-get install -y wrk || (apt-get update && apt-get install -y wrk)) >/dev/null
fi
rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
for crate in plugins/auto-rater plugins/installment-fee; do
  cargo build --quiet --target wasm32-wasip2 --profile plugin \
    --manifest-path "$crate/Cargo.toml" --target-dir target/plugins
done
if [ -z "${PREMIA_BENCH_BIN:-}" ]; then
  cargo build --quiet --release -p premia
fi
premia="${PREMIA_BENCH_BIN:-$PWD/target/release/premia}"

work="$(mktemp -d)"
pids=()
started_pg=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$started_pg" ] && PREMIA_PG_PORT=5439 bash scripts/postgres.sh stop
  rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${PREMIA_BENCH_POSTGRES_URL:-}" ]; then
  PREMIA_BENCH_POSTGRES_URL="$(PREMIA_PG_PORT=5439 bash scripts/postgres.sh start)"
  started_pg=1
fi
pg_base="$PREMIA_BENCH_POSTGRES_URL"

tenants=(t1 t2 t3 t4)

# serve <name> <port> [store]: starts a host, waits until it listens.
serve() {
  local name="$1" port="$2" store="${3:-sled}"
  "$premia" serve --data "$work/$name" --store "$store" --listen "127.0.0.1:$port" \
    --demo-wasm-dir target/plugins/wasm32-wasip2/plugin >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q listening "$work/$name.log" 2>/dev/null && return 0; sleep 0.2; done
  cat "$work/$name.log" >&2
  exit 1
}

stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}

# setup <data-name> <store> <port>: tenants with keys and accounts (keys in $work/keys).
setup() {
  local name="$1" store="$2" port="$3"
  : >"$work/keys"
  for t in "${tenants[@]}"; do
    "$premia" tenant create "$t" --data "$work/$name" --store "$store" | grep -o 'prm_[0-9a-f]*' >>"$work/keys"
  done
  serve "$name" "$port" "$store"
  local i=0
  while read -r key; do
    i=$((i + 1))
    for a in 1 2 3 4; do
      curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        "http://127.0.0.1:$port/v1/accounts" -d "{\"locator\":\"A-$a\",\"name\":\"Bench\",\"currency\":\"USD\"}" >/dev/null
    done
  done <"$work/keys"
}

lua="$work/pay.lua"
{
  echo 'local keys = {'
  echo '__KEYS__'
  echo '}'
  cat <<'LUA'
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  key = keys[((id - 1) % #keys) + 1]
  prefix = args[1] .. "-" .. id
end
function request()
  counter = counter + 1
  local body = string.format('{"account":"A-%d","amount":"1.%02d","received_on":"2026-01-05"}', counter % 4 + 1, counter % 100)
  return wrk.format("POST", "/v1/payments", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. key,
    ["Idempotency-Key"] = "bench-" .. prefix .. "-" .. counter,
  }, body)
end
LUA
} >"$lua.in"

# make_lua [out] [first-line last-line]: the wrk script with the keys of
# $work/keys (all of them, or lines first..last).
make_lua() {
  local out="${1:-$lua}" first="${2:-1}" last="${3:-\$}" keys
  keys="$(sed -n "${first},${last}p" "$work/keys" | sed 's/.*/"&",/')"
  awk -v k="$keys" '{ if ($0 == "__KEYS__") print k; else print }' "$lua.in" >"$out"
}

# load <label> <connections per host> <port>[:script]...: runs wrk against
# each port at once (with its own script, or the one of all tenants).
results="$work/results"
run=0
load() {
  local label="$1" connections="$2"
  shift 2
  run=$((run + 1))
  local outs=() loaders=()
  for target in "$@"; do
    local port="${target%%:*}" script="$lua"
    [ "$target" != "$port" ] && script="${target#*:}"
    wrk -t4 -c"$connections" -d"${seconds}s" --latency -s "$script" "http://127.0.0.1:$port" \
      -- "r$run-$port" >"$work/wrk-$run-$port.txt" 2>&1 &
    loaders+=($!)
    outs+=("$work/wrk-$run-$port.txt")
  done
  for pid in "${loaders[@]}"; do wait "$pid"; done
  local total=0 p50="" p99="" errors=0
  for out in "${outs[@]}"; do
    total="$(awk -v t="$total" '/Requests\/sec/ {print t + $2}' "$out")"
    p50="$p50 $(awk '$1 == "50%" {print $2}' "$out")"
    p99="$p99 $(awk '$1 == "99%" {print $2}' "$out")"
    local bad
    bad="$(awk '/Non-2xx/ {print $NF}' "$out")"
    errors=$((errors + ${bad:-0}))
  done
  printf '| %-32s | %8.0f | %-16s | %-16s | %6d |\n' "$label" "$total" "$p50" "$p99" "$errors" | tee -a "$results"
  echo "$total" >"$work/total-$run"
}

echo "== ${seconds}s per configuration, 16 connections, 4 tenants"
: >"$results"

setup sled sled 18301
make_lua
load "sled, one host" 16 18301
stop_all

schema="bench_$(date +%s)"
pg_url="$pg_base?options=-c%20search_path%3D$schema"
setup pg1 "$pg_url" 18311
make_lua
load "PostgreSQL, one host" 16 18311
serve pg2 18312 "$pg_url"
make_lua "$work/pay-12.lua" 1 2
make_lua "$work/pay-34.lua" 3 4
load "PostgreSQL, two hosts, disjoint" 8 "18311:$work/pay-12.lua" "18312:$work/pay-34.lua"
load "PostgreSQL, two hosts, same" 8 18311 18312
stop_all

ratio() { awk -v a="$(cat "$work/total-$1")" -v b="$(cat "$work/total-$2")" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "| configuration                    | cmds/s   | p50 (per host)   | p99 (per host)   | non-2xx |"
echo "|----------------------------------|----------|------------------|------------------|---------|"
cat "$results"
echo
echo "PostgreSQL one host / sled: $(ratio 2 1); two hosts disjoint / one host: $(ratio 3 2); two hosts same / one host: $(ratio 4 2)"
