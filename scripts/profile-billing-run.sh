#!/usr/bin/env bash
# Profiles the timed part of the billing_run bench (February through the
# durable stores) with perf, leaving out the set-up.
#
#   scripts/profile-billing-run.sh 100000 [sled|postgres] [out-dir]
#
# Builds the release bench, starts it with PREMIA_BENCH_PAUSE_MS, attaches
# `perf record -F 499 -g` when the bench says the timed part starts, and
# prints `perf report --no-children` by thread and symbol. Needs `perf`
# (Debian: linux-perf). PostgreSQL needs PREMIA_BENCH_POSTGRES_URL.
set -euo pipefail
policies="${1:-100000}"
store="${2:-sled}"
out="${3:-$(mktemp -d)}"
mkdir -p "$out"
cd "$(dirname "$0")/.."
bench=$(cargo bench -p premia --bench billing_run --no-run 2>&1 |
    sed -n 's/.*Executable .*(\(.*\))$/\1/p' | tail -1)
[ -x "$bench" ] || bench="${CARGO_TARGET_DIR:-target}/${bench#target/}"
PREMIA_BENCH_POLICIES="$policies" PREMIA_BENCH_STORES="$store" PREMIA_BENCH_PAUSE_MS=1500 \
    PREMIA_BENCH_SNAPSHOTS="${PREMIA_BENCH_SNAPSHOTS:-on}" \
    "$bench" >"$out/bench.out" 2>"$out/bench.err" &
runner=$!
until grep -q "timed part starts" "$out/bench.err" 2>/dev/null; do
    if ! kill -0 "$runner" 2>/dev/null; then
        cat "$out/bench.out" "$out/bench.err"
        exit 1
    fi
    sleep 0.2
done
pid=$(sed -n 's/.*pid \([0-9]*\).*/\1/p' "$out/bench.err" | head -1)
perf record -F 499 -g -p "$pid" -o "$out/perf.data" 2>"$out/perf.err" &
perf_pid=$!
wait "$runner"
kill -INT "$perf_pid" 2>/dev/null || true
wait "$perf_pid" || true
cat "$out/bench.out"
perf report -i "$out/perf.data" --no-children --sort comm,symbol -g none 2>/dev/null |
    grep -v '^#' | grep '%' | head -50
echo "perf data in $out/perf.data"
