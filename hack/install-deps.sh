#!/usr/bin/env bash
# install-deps.sh - install every Debian package MBCAS needs to build, test and run.
#
# Idempotent: packages already present are skipped, so it costs about a second
# on a machine that has them. Runs as root (our machines and CI do); uses sudo
# otherwise. Python test tools use Debian's system interpreter (/usr/bin/python3)
# and Debian python3-* packages only, never pip.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  libcurl4-openssl-dev libcjson-dev libyaml-dev libssl-dev
  libwebsockets-dev libcmocka-dev
  python3 python3-yaml python3-scipy python3-numpy python3-jsonschema
  openssl valgrind gnuplot-nox prometheus curl procps
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# prometheus pulls in a service; we only use its binary, started by tests on loopback.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
