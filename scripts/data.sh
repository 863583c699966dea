#!/usr/bin/env bash
# Prepares real data sets from Debian packages (nothing is downloaded from elsewhere).
# Usage: scripts/data.sh fashion-mnist [OUT_DIR]   (default OUT_DIR: data/fashion-mnist)
# Produces base.u8bin (60,000 x 784), query.u8bin (10,000 x 784) and gt100.ibin (exact top-100, l2).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
name=${1:-}
case "$name" in
  fashion-mnist) ;;
  *) echo "usage: scripts/data.sh fashion-mnist [OUT_DIR]" >&2; exit 2 ;;
esac
out=${2:-$root/data/fashion-mnist}
strata=${STRATA_BIN:-$root/build/tools/strata}

"$root/scripts/setup.sh" --with-data
if [[ ! -x "$strata" ]]; then
  "$root/scripts/build.sh" build >&2
  strata=$root/build/tools/strata
fi
src=/usr/share/datasets/fashion-mnist
mkdir -p "$out"
if [[ -s "$out/base.u8bin" && -s "$out/query.u8bin" && -s "$out/gt100.ibin" ]]; then
  echo "data: $out is ready" >&2
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gzip -dc "$src/train-images-idx3-ubyte.gz" >"$tmp/train-images-idx3-ubyte"
gzip -dc "$src/t10k-images-idx3-ubyte.gz" >"$tmp/t10k-images-idx3-ubyte"
"$strata" convert --quiet --in "$tmp/train-images-idx3-ubyte" --in-format idx --out "$out/base.u8bin"
"$strata" convert --quiet --in "$tmp/t10k-images-idx3-ubyte" --in-format idx --out "$out/query.u8bin"
"$strata" gt --quiet --base "$out/base.u8bin" --queries "$out/query.u8bin" --k 100 --metric l2 \
  --out "$out/gt100.ibin"
echo "data: wrote $out/{base.u8bin,query.u8bin,gt100.ibin}" >&2
