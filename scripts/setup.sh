#!/usr/bin/env bash
# Installs the Debian 12 packages strata needs to build, test and benchmark. Idempotent and quiet
# when everything is present. Usage: scripts/setup.sh [--with-data] [--with-bench]
#   --with-data   also the Fashion-MNIST data set package
#   --with-bench  also the peer libraries and plotting for the benchmarks (hnswlib, FAISS,
#                 matplotlib: bench/peers/peer_bench and scripts/plot_sweep.py) and wrk (HTTP load)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  liburing-dev libboost-dev libtbb-dev libmimalloc-dev libfmt-dev libspdlog-dev libcli11-dev
  libxxhash-dev libsimdjson-dev libopenblas-dev liblmdb-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 time curl openssl
  # Embedded faces (C API consumers): SQLite shell and headers, PostgreSQL 15 server and
  # extension headers, pybind11 + numpy + pytest for the Python binding.
  sqlite3 libsqlite3-dev postgresql-15 postgresql-server-dev-15
  python3-dev pybind11-dev python3-numpy python3-pytest
)
for arg in "$@"; do
  case "$arg" in
    --with-data) packages+=(dataset-fashion-mnist) ;;
    --with-bench) packages+=(libhnswlib-dev libfaiss-dev python3-matplotlib wrk) ;;
    *) echo "setup: unknown flag '$arg' (expected --with-data, --with-bench)" >&2; exit 2 ;;
  esac
done

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
