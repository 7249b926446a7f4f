#!/usr/bin/env bash
# coverage.sh - line/branch coverage of the code under test reached by a corpus.
#
#   test/fuzz/coverage.sh OUT_DIR [corpus-root]
#
# Compiles each target with replay_main.c and the library sources it needs using
# clang source-based coverage (-fprofile-instr-generate -fcoverage-mapping) into
# OUT_DIR, replays test/fuzz/corpus/<t> plus <corpus-root>/<t> when given (e.g.
# BUILD_DIR/fuzz-corpus, what run.sh grew), and prints the llvm-cov report of the
# source file(s) each target is about. Needs clang and llvm-cov/llvm-profdata
# (clang-14 / llvm-14 on Debian bookworm).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?usage: coverage.sh OUT_DIR [corpus-root]}
extra=${2:-}
mkdir -p "$out"
CC=${CC:-clang}
PROFDATA=${PROFDATA:-$(command -v llvm-profdata-14 || command -v llvm-profdata)}
COV=${COV:-$(command -v llvm-cov-14 || command -v llvm-cov)}
inc="-I$root/operator/common -I$root/api/v1alpha1 -I$root/operator/kube -I$here"
libs="$(pkg-config --cflags --libs libcurl libcjson yaml-0.1 openssl libwebsockets) -lpthread -lm"
common="$root/operator/common/result.c $root/operator/common/log.c"
api=$(ls "$root"/api/v1alpha1/*.c)
kube=$(ls "$root"/operator/kube/*.c)

files_of() {
  case $1 in
    ndjson|watch) echo "$root/operator/kube/watch.c" ;;
    kubeconfig) echo "$root/operator/kube/config.c" ;;
    status) echo "$root/operator/kube/rest.c" ;;
    quantity) echo "$root/api/v1alpha1/quantity.c" ;;
    duration) echo "$root/api/v1alpha1/duration.c" ;;
    servicebudget) echo "$root/api/v1alpha1/servicebudget.c $root/api/v1alpha1/jsonutil.c $root/api/v1alpha1/meta.c $root/api/v1alpha1/conditions.c" ;;
    scalingmarket) echo "$root/api/v1alpha1/scalingmarket.c $root/api/v1alpha1/jsonutil.c $root/api/v1alpha1/meta.c $root/api/v1alpha1/conditions.c" ;;
    agentpolicy) echo "$root/api/v1alpha1/agentpolicy.c $root/api/v1alpha1/jsonutil.c $root/api/v1alpha1/meta.c $root/api/v1alpha1/conditions.c" ;;
  esac
}

for t in ndjson watch kubeconfig status quantity duration servicebudget scalingmarket agentpolicy; do
  case $t in
    ndjson|watch|kubeconfig|status) srcs="$common $kube" ;;
    *) srcs="$common $api" ;;
  esac
  # shellcheck disable=SC2086
  $CC -std=c11 -D_GNU_SOURCE -O1 -g -fprofile-instr-generate -fcoverage-mapping $inc \
    -DFUZZ_CORPUS_DIR="\"$here/corpus/$t\"" "$here/${t}_fuzz.c" "$here/replay_main.c" $srcs $libs -o "$out/cov_$t"
  dirs="$here/corpus/$t"
  [ -n "$extra" ] && [ -d "$extra/$t" ] && [ -n "$(ls -A "$extra/$t")" ] && dirs="$dirs $extra/$t"
  # shellcheck disable=SC2086
  # a grown corpus may hold inputs of the known findings (docs/fuzzing.md)
  FUZZ_SKIP_KNOWN=1 LLVM_PROFILE_FILE="$out/$t.profraw" "$out/cov_$t" $dirs > /dev/null
  "$PROFDATA" merge -sparse "$out/$t.profraw" -o "$out/$t.profdata"
  echo "== $t ($(echo $dirs | wc -w) corpus folder(s))"
  # shellcheck disable=SC2046
  "$COV" report "$out/cov_$t" -instr-profile="$out/$t.profdata" $(files_of $t) | sed -n '1p;3,$p'
done
