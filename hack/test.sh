#!/usr/bin/env bash
# test.sh - the whole test suite, from a fresh clone: install packages, build,
# run every test; then build again with AddressSanitizer + UndefinedBehaviorSanitizer
# (LeakSanitizer included) and run the C tests under it.
#
#   bash hack/test.sh            everything (what CI runs)
#   MBCAS_SKIP_ASAN=1 bash hack/test.sh   the plain build only (quicker while editing)
#   bash hack/test.sh -R market  extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/install-deps.sh

jobs=$(nproc)
build() { # build DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
}

build build
(cd build && ctest --output-on-failure -j"$jobs" "$@")

if [ -z "${MBCAS_SKIP_ASAN:-}" ]; then
  build build-asan -DMBCAS_SANITIZE=ON
  # Python-only tests do not exercise C code, so the sanitizer pass skips them.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j"$jobs" -LE python "$@")
fi
