#!/usr/bin/env bash
# Benchmarks (not part of the test run). Prints tables and writes raw results under
# build/bench/. Usage: scripts/bench.sh [micro|gt|all]   (default all)
#   micro: ns per distance for every type, metric and ISA at d = 96..1536 (Google Benchmark,
#          median of 5 repetitions)
#   gt:    strata gt on 1M x 128-d f32 against 10,000 queries, k = 100, 2 threads (3 runs)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
what=${1:-all}
scripts/setup.sh
scripts/build.sh build
out=build/bench
mkdir -p "$out"
sha=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "# strata bench  sha=$sha  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" \
  "kernel=$(uname -r)  $(date -u +%FT%TZ)"

if [[ $what == micro || $what == all ]]; then
  build/bench/micro/distance_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_format=json --benchmark_out="$out/distance.json" --benchmark_out_format=json \
    >/dev/null
  python3 - "$out/distance.json" <<'PY'
import json, sys, collections
rows = collections.OrderedDict()
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name") != "median": continue
    name = b["run_name"]            # BM_<metric>/<dtype>/<isa>/<dim>
    parts = name.split("/")
    metric, dtype, isa, dim = parts[0][3:], parts[1], parts[2], parts[3]
    ns = b["real_time"] if b["time_unit"] == "ns" else b["real_time"] * 1000
    per = b.get("ns_per_distance", ns)
    rows.setdefault((metric, dtype, dim), {})[isa] = per
isas = ["scalar", "avx2", "avx512"]
print("\nns per distance (median of 5)\n")
print("| metric | dtype | dim | " + " | ".join(isas) + " | avx512 speedup |")
print("|---|---|---|" + "---|" * (len(isas) + 1))
for (m, t, d), v in rows.items():
    cells = [f"{v[i]:.2f}" if i in v else "-" for i in isas]
    sp = f"{v['scalar']/v['avx512']:.1f}x" if "scalar" in v and "avx512" in v else "-"
    print(f"| {m} | {t} | {d} | " + " | ".join(cells) + f" | {sp} |")
PY
fi

if [[ $what == gt || $what == all ]]; then
  data=data/bench-1m
  mkdir -p "$data"
  if [[ ! -s $data/base.fbin ]]; then
    build/tools/strata gen --quiet --n 1000000 --dim 128 --seed 42 --out "$data/base.fbin" \
      --queries 10000 --queries-out "$data/query.fbin"
  fi
  echo
  echo "strata gt: 1M x 128 f32 base, 10,000 queries, k = 100, l2, 2 threads"
  for i in 1 2 3; do
    /usr/bin/time -f "%e s wall, %M KiB peak RSS" build/tools/strata gt --quiet --threads 2 \
      --base "$data/base.fbin" --queries "$data/query.fbin" --k 100 --out "$data/gt100.ibin" \
      2>&1 | tail -1
  done
fi
