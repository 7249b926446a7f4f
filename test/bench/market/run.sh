#!/usr/bin/env bash
# run.sh - market engine benchmark: exact C clearing vs a generic convex solver.
#
#   test/bench/market/run.sh BUILD_DIR            # quick: generic solver on samples
#   GENERIC_FULL=1 test/bench/market/run.sh BUILD_DIR   # + all 5,000 nodes, 10k, 100k
#
# Needs bench_market and market_clearing_driver built in BUILD_DIR
#   cmake --build BUILD_DIR --target bench_market market_clearing_driver
# Prints the C timings (median of repeated runs), then one JSON line per generic-solver
# run (median seconds per instance, and the largest deviation from the C allocation).
set -euo pipefail
B=${1:?usage: run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
bench=$(find "$B" -name bench_market -type f -perm -u+x | head -1)
driver=$(find "$B" -name market_clearing_driver -type f -perm -u+x | head -1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# $(date -u +%FT%TZ) $(uname -m) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) ($(nproc) cpus)"
"$bench" --dump "$tmp"
py=/usr/bin/python3
gen="$here/solve_generic.py"
"$py" "$gen" "$driver" "$tmp/single_100.txt" --method SLSQP
"$py" "$gen" "$driver" "$tmp/single_100.txt" --method trust-constr
"$py" "$gen" "$driver" "$tmp/single_1000.txt" --method trust-constr
if [ "${GENERIC_FULL:-0}" = 1 ]; then
  "$py" "$gen" "$driver" "$tmp/cluster.txt" --method SLSQP
  "$py" "$gen" "$driver" "$tmp/single_10000.txt" --method trust-constr
  timeout 900 "$py" "$gen" "$driver" "$tmp/single_100000.txt" --method trust-constr ||
    echo "100000: generic solver did not finish in 900 s"
else
  "$py" "$gen" "$driver" "$tmp/cluster.txt" --method SLSQP --limit 250
fi
