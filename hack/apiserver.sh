#!/bin/sh
# Run the Kubernetes API-server emulator in the foreground.
#   hack/apiserver.sh [--port N] [--dir DIR] [--scenario FILE] [--fault SPEC]... [--no-cluster]
# Default state dir: .run/apiserver (kubeconfig, admin.token, ca.crt, tokens/ land there).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dir=.run/apiserver
prev=
for a in "$@"; do
  if [ "$prev" = "--dir" ]; then dir=$a; fi
  prev=$a
done
case " $* " in *" --dir "*) set -- "$@" ;; *) set -- --dir "$dir" "$@" ;; esac
echo "Starting the API-server emulator; once it is ready:"
echo "  export KUBECONFIG=$dir/kubeconfig"
echo "  kubectl get nodes            # admin (bearer token); --context cert uses the client certificate"
echo "  ServiceAccount tokens: $dir/tokens/NAMESPACE.NAME.token"
echo "Stop with Ctrl-C."
exec /usr/bin/python3 "$root/test/apiserver/apiserver.py" "$@"
