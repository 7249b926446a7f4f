#!/usr/bin/env bash
# run.sh - see MBCAS work on a laptop, no cluster needed.
#
# Installs the Debian dependencies, builds, starts the API-server emulator with the
# 3-tier demo (test/apiserver/scenarios/demo-3tier.yaml: a shop whose load rises and
# falls every 5 minutes), applies crds/ and config/samples/, runs mbcas-operator against
# it and shows the markets and budgets changing (kubectl get / describe, every 5 s).
# Ctrl-C stops the operator and the emulator and removes the temporary folder.
#
#   bash hack/run.sh [--for SECONDS] [--interval DURATION] [--skip-deps] [--build-dir DIR]
#     --for N        stop by itself after N seconds (default: run until Ctrl-C)
#     --interval D   clearing interval passed to the operator (default 5s: faster than the
#                    samples' 15s, so changes show up quickly)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=0
INTERVAL=5s
DEPS=1
BUILD=$ROOT/build
while (($#)); do
  case "$1" in
    --for) DURATION=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --skip-deps) DEPS=0; shift ;;
    --build-dir) BUILD=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if ((DEPS)); then bash hack/install-deps.sh; fi
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target mbcas-operator -j"$(nproc)"

KUBECTL=${KUBECTL:-$(dirname "$(readlink -f "$(command -v kubectl)")")/kubectl.1.33}
[ -x "$KUBECTL" ] || KUBECTL=$(command -v kubectl)
TMP=$(mktemp -d -t mbcas-run-XXXXXX)
EMU_PID="" OP_PID=""
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "run.sh: stopping"
  [ -n "$OP_PID" ] && kill -TERM "$OP_PID" 2>/dev/null && wait "$OP_PID" 2>/dev/null || true
  [ -n "$EMU_PID" ] && kill -TERM "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null || true
  echo "run.sh: logs were in $TMP (removed)"
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "run.sh: starting the API-server emulator (state in $TMP/emu)"
/usr/bin/python3 test/apiserver/apiserver.py --port 0 --dir "$TMP/emu" \
  --scenario test/apiserver/scenarios/demo-3tier.yaml >"$TMP/apiserver.log" 2>&1 &
EMU_PID=$!
for _ in $(seq 1 300); do
  [ -f "$TMP/emu/ready" ] && break
  kill -0 "$EMU_PID" 2>/dev/null || { cat "$TMP/apiserver.log"; exit 1; }
  sleep 0.1
done
[ -f "$TMP/emu/ready" ] || { echo "run.sh: emulator not ready"; exit 1; }
export KUBECONFIG=$TMP/emu/kubeconfig
k() { "$KUBECTL" "$@"; }

k apply -f crds/ >/dev/null
k wait --for=condition=Established crd --all --timeout=30s >/dev/null 2>&1 || true
k apply -f config/samples/

echo "run.sh: starting mbcas-operator (log: $TMP/operator.log)"
"$BUILD/operator/mbcas-operator" --kubeconfig="$KUBECONFIG" --clearing-interval="$INTERVAL" \
  --metrics-bind-address=127.0.0.1:0 --health-probe-bind-address=127.0.0.1:0 \
  >"$TMP/operator.log" 2>&1 &
OP_PID=$!

START=$SECONDS
while :; do
  kill -0 "$OP_PID" 2>/dev/null || { echo "run.sh: the operator stopped:"; tail -20 "$TMP/operator.log"; exit 1; }
  [ -t 1 ] && clear
  echo "MBCAS demo - $(date -u +%H:%M:%S) - Ctrl-C to stop"
  echo
  k get scalingmarkets,servicebudgets,agentpolicies -A -o wide 2>&1 || true
  echo
  k get pods -n shop -o custom-columns='POD:.metadata.name,NODE:.spec.nodeName,CPU-LIMIT:.spec.containers[0].resources.limits.cpu' 2>&1 || true
  echo
  echo "--- kubectl describe servicebudget frontend -n shop (decision and reasoning)"
  k describe servicebudget frontend -n shop 2>/dev/null | sed -n '/^  Last Decision:/,/^    Time:/p;/^Events:/,$p' | tail -12 || true
  if ((DURATION > 0 && SECONDS - START >= DURATION)); then break; fi
  sleep 5
done
