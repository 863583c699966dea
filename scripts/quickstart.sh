#!/usr/bin/env bash
# The main job end to end on a default data set: install, build, generate data, compute exact
# ground truth, build a disk index, verify it, and measure the recall of its graph. Later stages
# (SSD search, serve, query) join here.
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
echo "== recall of the graph (in memory, exact distances)"
build/bench/index_recall_bench "$dir/index" "$dir/query.fbin" "$dir/gt10.ibin" 10 10,20,50,100
echo "== report"
"$strata" version
"$strata" inspect "$dir/base.fbin"
"$strata" inspect "$dir/gt10.ibin" --rows 3
"$strata" info "$dir/index" | head -8
echo "quickstart: done; files in $dir"
