#!/usr/bin/env bash
# Load benchmark: quotes per second over HTTP on loopback for a 10-item auto
# policy rated (1) by the WASM auto-rater plugin in the host and (2) by the
# same plugin behind a Socotra-compatible external rater (`premia rater
# serve`), in one run, with wrk. Prints both figures and their ratio.
#   scripts/load.sh [seconds]      (default 10)
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
cargo build --quiet --release -p premia

data="$(mktemp -d)"
log="$data/serve.log"
port=18181
./target/release/premia serve --data "$data/data" --listen "127.0.0.1:$port" >"$log" 2>&1 &
server=$!
rater_port=18190
./target/release/premia rater serve target/plugins/wasm32-wasip2/plugin/auto_rater.wasm \
  --tables plugins/auto-rater/tables --listen "127.0.0.1:$rater_port" >"$data/rater.log" 2>&1 &
rater=$!
trap 'kill $server $rater 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do grep -q listening "$log" 2>/dev/null && break; sleep 0.2; done
key="$(grep -o 'prm_[0-9a-f]*' "$log" | head -1)"
base="http://127.0.0.1:$port"
curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  "$base/v1/accounts" -d '{"locator":"A-1","name":"Load","currency":"USD"}' >/dev/null

# Four vehicles, ten perils: ten priced items per quote.
policy='{"locator":"P-LOAD","account":"A-1","product":"auto","start":"2026-01-01","time_zone":"America/New_York",
 "data":{"fields":{"territory":["urban"],"producer":["agency-7"]},"exposures":{
  "V1":{"name":"vehicle","fields":{"vehicle_class":["sedan"],"driver_age":[30]},"perils":{"V1-BI":{"name":"bodily_injury"},"V1-CO":{"name":"collision"},"V1-CP":{"name":"comprehensive"}}},
  "V2":{"name":"vehicle","fields":{"vehicle_class":["suv"],"driver_age":[45]},"perils":{"V2-BI":{"name":"bodily_injury"},"V2-CO":{"name":"collision"},"V2-CP":{"name":"comprehensive"}}},
  "V3":{"name":"vehicle","fields":{"vehicle_class":["truck"],"driver_age":[23]},"perils":{"V3-BI":{"name":"bodily_injury"},"V3-CO":{"name":"collision"}}},
  "V4":{"name":"vehicle","fields":{"vehicle_class":["sports"],"driver_age":[70]},"perils":{"V4-BI":{"name":"bodily_injury"},"V4-CO":{"name":"collision"}}}}}}'
policy="$(echo "$policy" | tr -d '\n')"
items="$(curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' "$base/v1/quotes" -d "$policy" \
  | grep -o '"charge":"premium"' | wc -l)"
echo "quote check: $items premium charges per quote"

lua="$data/quote.lua"
cat >"$lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
wrk.body = [[$policy]]
LUA
# The same product rated by the external rater.
curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' "$base/v1/external-raters" \
  -d "{\"name\":\"auto-ext\",\"url\":\"http://127.0.0.1:$rater_port/rate\",\"headers\":[{\"name\":\"Authorization\",\"value\":\"Bearer secret\"}],\"timeout_ms\":5000}" >/dev/null
curl -sf -H "Authorization: Bearer $key" "$base/v1/products" | python3 -c '
import json, sys
product = [p for p in json.load(sys.stdin) if p["name"] == "auto"][0]
product["name"] = "auto-ext"
product["rating"] = {"kind": "external", "rater": "auto-ext"}
print(json.dumps(product))' >"$data/product-ext.json"
curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' "$base/v1/products" -d @"$data/product-ext.json" >/dev/null
policy_ext="${policy/\"product\":\"auto\"/\"product\":\"auto-ext\"}"
items_ext="$(curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' "$base/v1/quotes" -d "$policy_ext" \
  | grep -o '"charge":"premium"' | wc -l)"
echo "external quote check: $items_ext premium charges per quote"
lua_ext="$data/quote-ext.lua"
sed 's/"product":"auto"/"product":"auto-ext"/' "$lua" >"$lua_ext"

cpu_ticks() { # pid: user + system CPU time in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}
run() { # label lua
  echo "== $1: POST /v1/quotes, 10 items, ${seconds}s, 2 threads, 16 connections"
  local before after
  before="$(cpu_ticks $server)"
  wrk -t2 -c16 -d"${seconds}s" --latency -s "$2" "$base/v1/quotes" | tee "$data/$1.out"
  after="$(cpu_ticks $server)"
  # The host's CPU time per quote (the external rater's own CPU not counted).
  python3 -c "
import re
text = open('$data/$1.out').read()
requests = int(re.search(r'(\\d+) requests in', text).group(1))
ticks = $after - $before
print(f'host CPU per quote: {ticks * 1e6 / $(getconf CLK_TCK) / requests:.0f} us')" | tee -a "$data/$1.out"
}
run wasm "$lua"
run external "$lua_ext"
wasm_rps="$(awk '/Requests\/sec/ {print $2}' "$data/wasm.out")"
ext_rps="$(awk '/Requests\/sec/ {print $2}' "$data/external.out")"
echo "== summary"
echo "WASM plugin path:     $wasm_rps quotes/s"
echo "external rater path:  $ext_rps quotes/s"
python3 -c "print(f'throughput ratio WASM/external: {float($wasm_rps)/float($ext_rps):.2f}x')"
echo "(per rating call, without the API around it: scripts/bench.sh rating_paths)"
