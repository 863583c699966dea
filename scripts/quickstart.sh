#!/usr/bin/env bash
# The main job end to end on a default data set: install, build, generate data, compute exact
# ground truth, build a disk index, verify it, and search it from the SSD (io_uring, O_DIRECT)
# with a sweep of list sizes: recall, QPS, latency and reads per query. Later stages (serve,
# updates) join here.
# Usage: scripts/quickstart.sh [N] [DIM]   (default 100000 x 128, f32, l2)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
n=${1:-100000}
dim=${2:-128}
dir=data/quickstart
strata=build/tools/strata

echo "== setup and build"
scripts/setup.sh
scripts/build.sh build

mkdir -p "$dir"
echo "== generate $n x $dim f32 base vectors and 1,000 queries (seed 42)"
"$strata" gen --n "$n" --dim "$dim" --dtype f32 --seed 42 --out "$dir/base.fbin" \
  --queries 1000 --queries-out "$dir/query.fbin"
echo "== exact ground truth, k = 10"
"$strata" gt --base "$dir/base.fbin" --queries "$dir/query.fbin" --k 10 --metric l2 \
  --out "$dir/gt10.ibin"
echo "== build the disk index (R = 64, L = 100, PQ 32 bytes)"
"$strata" build --data "$dir/base.fbin" --out "$dir/index" --metric l2 --force
echo "== verify every checksum and node"
"$strata" verify "$dir/index"
echo "== search from the SSD: k = 10, beam width 4, 1 thread, 8 MiB node cache"
"$strata" search --index "$dir/index" --queries "$dir/query.fbin" --gt "$dir/gt10.ibin" --k 10 \
  --L 10,20,30,50,100 --beamwidth 4 --threads 1 --cache-mb 8 --out "$dir/result10.ibin"
echo "== report"
"$strata" version
"$strata" inspect "$dir/base.fbin"
"$strata" inspect "$dir/gt10.ibin" --rows 3
"$strata" info "$dir/index" | head -8
echo "quickstart: done; files in $dir"
