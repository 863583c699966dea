#!/usr/bin/env bash
# The main job end to end on a default data set: install, build, generate data, compute exact
# ground truth, print a short report. Later stages (build an index, serve, query) join here.
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
echo "== report"
"$strata" version
"$strata" inspect "$dir/base.fbin"
"$strata" inspect "$dir/query.fbin"
"$strata" inspect "$dir/gt10.ibin" --rows 3
echo "quickstart: done; files in $dir"
