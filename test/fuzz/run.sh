#!/usr/bin/env bash
# run.sh - run the libFuzzer targets one after another (docs/fuzzing.md).
#
#   test/fuzz/run.sh BUILD_DIR [SECONDS] [target ...]
#
# BUILD_DIR was configured with CC=clang -DMBCAS_FUZZ=ON and built with
# `cmake --build BUILD_DIR --target mbcas_fuzzers`. Each target fuzzes for SECONDS
# (default 60) on one core, starting from the committed seeds
# (test/fuzz/corpus/<t>, read only) and its working corpus
# BUILD_DIR/fuzz-corpus/<t> (new inputs go there); crashes, leaks and timeouts
# land in BUILD_DIR/fuzz-artifacts/<t>/, logs in BUILD_DIR/fuzz-logs/<t>.log.
# Prints one line per target: executions, execs/s, edges covered (cov),
# features (ft), and the verdict. Exit status 1 when any target failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run.sh BUILD_DIR [SECONDS] [target ...]}
secs=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(ndjson watch kubeconfig status quantity duration servicebudget scalingmarket agentpolicy)

dict_of() {
  case $1 in
    kubeconfig) echo kubeconfig.dict ;;
    quantity) echo quantity.dict ;;
    duration) echo duration.dict ;;
    *) echo json.dict ;;
  esac
}
maxlen_of() {
  case $1 in
    quantity|duration) echo 256 ;;
    kubeconfig|servicebudget|scalingmarket|agentpolicy) echo 16384 ;;
    *) echo 8192 ;;
  esac
}

fail=0
printf '%-14s %10s %9s %6s %6s %s\n' target execs exec/s cov ft result
for t in "${targets[@]}"; do
  bin="$build/test/fuzz/fuzz_$t"
  if [ ! -x "$bin" ]; then
    echo "run.sh: $bin missing (configure with CC=clang -DMBCAS_FUZZ=ON, build mbcas_fuzzers)" >&2
    exit 2
  fi
  mkdir -p "$build/fuzz-corpus/$t" "$build/fuzz-artifacts/$t" "$build/fuzz-logs"
  log="$build/fuzz-logs/$t.log"
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$(maxlen_of "$t")" \
    -dict="$here/dict/$(dict_of "$t")" -print_final_stats=1 -detect_leaks=1 \
    -artifact_prefix="$build/fuzz-artifacts/$t/" \
    "$build/fuzz-corpus/$t" "$here/corpus/$t" > "$log" 2>&1
  rc=$?
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  if [ $rc -eq 0 ]; then res=ok; else res="FAILED (rc $rc, see $log)"; fail=1; fi
  printf '%-14s %10s %9s %6s %6s %s\n' "$t" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "$res"
done
exit $fail
