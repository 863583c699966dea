#!/usr/bin/env bash
# Benchmarks (not part of the test run). Prints tables and writes raw results under
# build/bench/. Usage: scripts/bench.sh [micro|gt|build|budget|all]   (default all)
#   micro:  ns per distance for every type, metric and ISA at d = 96..1536, and PQ ADC ns per
#           code (Google Benchmark, median of 5 repetitions)
#   gt:     strata gt on 1M x 128-d f32 against 10,000 queries, k = 100, 2 threads (3 runs)
#   build:  strata build of 1M x 128-d f32 (R=64, L=100), 2 threads: phase times, peak RSS,
#           recall@10 of the graph (in memory) against exact ground truth
#   budget: 3.3M x 128-d f32 (one-shot needs about 3 GB) built one-shot and with --memory-gb 1:
#           peak RSS of both and their recall@10 (long: about 40 minutes here)
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

if [[ $what == micro || $what == all ]] && [[ -x build/bench/micro/pq_bench ]]; then
  build/bench/micro/pq_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    2>/dev/null | grep -E "median|^Benchmark" || true
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

# One build with its peak RSS and the recall of the resulting graph.
build_and_measure() {  # data queries gt out extra-flags...
  local data=$1 queries=$2 gt=$3 out=$4
  shift 4
  rm -rf "$out"
  /usr/bin/time -f "  peak RSS %M KiB, wall %e s" build/tools/strata build --quiet --json \
    --data "$data" --out "$out" --threads 2 --force "$@" 2>&1
  build/bench/index_recall_bench "$out" "$queries" "$gt" 10 10,20,50,100 | tail -4
}

if [[ $what == build || $what == all ]]; then
  data=data/bench-1m
  mkdir -p "$data"
  if [[ ! -s $data/base.fbin ]]; then
    build/tools/strata gen --quiet --n 1000000 --dim 128 --seed 42 --out "$data/base.fbin" \
      --queries 10000 --queries-out "$data/query.fbin"
  fi
  if [[ ! -s $data/gt100.ibin ]]; then
    build/tools/strata gt --quiet --threads 2 --base "$data/base.fbin" \
      --queries "$data/query.fbin" --k 100 --out "$data/gt100.ibin"
  fi
  echo
  echo "strata build: 1M x 128 f32, R=64, L=100, alpha=1.2, PQ 32 B, 2 threads"
  build_and_measure "$data/base.fbin" "$data/query.fbin" "$data/gt100.ibin" "$data/index"
fi

if [[ $what == budget ]]; then
  data=data/bench-3m
  mkdir -p "$data"
  if [[ ! -s $data/base.fbin ]]; then
    build/tools/strata gen --quiet --n 3300000 --dim 128 --seed 7 --out "$data/base.fbin" \
      --queries 1000 --queries-out "$data/query.fbin"
  fi
  if [[ ! -s $data/gt10.ibin ]]; then
    build/tools/strata gt --quiet --threads 2 --base "$data/base.fbin" \
      --queries "$data/query.fbin" --k 10 --out "$data/gt10.ibin"
  fi
  echo
  echo "strata build: 3.3M x 128 f32 one-shot (no budget)"
  build_and_measure "$data/base.fbin" "$data/query.fbin" "$data/gt10.ibin" "$data/index-oneshot" \
    --memory-gb 8
  echo "strata build: 3.3M x 128 f32 with --memory-gb 1 (sharded)"
  build_and_measure "$data/base.fbin" "$data/query.fbin" "$data/gt10.ibin" "$data/index-1g" \
    --memory-gb 1
fi
