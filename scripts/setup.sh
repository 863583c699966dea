#!/usr/bin/env bash
# Installs the Debian 12 packages strata needs to build, test and benchmark. Idempotent and quiet
# when everything is present. Usage: scripts/setup.sh [--with-data]
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  liburing-dev libboost-dev libtbb-dev libmimalloc-dev libfmt-dev libspdlog-dev libcli11-dev
  libxxhash-dev libsimdjson-dev libopenblas-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 time
)
if [[ "${1:-}" == "--with-data" ]]; then
  packages+=(dataset-fashion-mnist)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
