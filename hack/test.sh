#!/usr/bin/env bash
# test.sh - the whole test suite, from a fresh clone: install packages, build,
# run every test; then build again with AddressSanitizer + UndefinedBehaviorSanitizer
# (LeakSanitizer included) and run the C tests and the end-to-end tests under it.
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
  # The C tests, then the end-to-end tests, which drive the sanitized mbcas-operator
  # binary (a leak or UB report makes it exit non-zero, and the test fails). The other
  # Python tests exercise no C code, so this pass skips them.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  (cd build-asan && ctest --output-on-failure -j"$jobs" -LE python "$@")
  (cd build-asan && ctest --output-on-failure -j"$jobs" -L e2e "$@")
fi
