#!/usr/bin/env bash
# Benchmarks (not part of the test run). Prints tables and writes raw results under
# build/bench/. Usage: scripts/bench.sh [micro|gt|build|budget|search|collection|serve|filter|sql|all]
# (default all)
#   micro:  ns per distance for every type, metric and ISA at d = 96..1536, and PQ ADC ns per
#           code (Google Benchmark, median of 5 repetitions)
#   gt:     strata gt on 1M x 128-d f32 against 10,000 queries, k = 100, 2 threads (3 runs)
#   build:  strata build of 1M x 128-d f32 (R=64, L=100), 2 threads: phase times, peak RSS,
#           recall@10 of the graph (in memory) against exact ground truth
#   budget: 3.3M x 128-d f32 (one-shot needs about 3 GB) built one-shot and with --memory-gb 1:
#           peak RSS of both and their recall@10 (long: about 40 minutes here)
#   search: SSD search sweeps (strata search, O_DIRECT so the page cache is out of the way) on
#           Fashion-MNIST (R=64, L=100, alpha=1.2, PQ 64 B) and strata gen 1M x 128 f32: 1 and 2
#           threads, pipelined and rounds, with and without a node cache of 10% of the nodes,
#           3 runs each (medians), then the peers hnswlib, FAISS HNSW and FAISS IVF-PQ on the same
#           queries (when built: scripts/setup.sh --with-bench). Writes build/bench/search-*.jsonl,
#           -*.csv and -*.png (recall vs QPS). About 40 minutes here.
#   collection: on strata gen 1M x 128 f32 (seed 42): bulk load of 900K, upserts with
#           fsync=always (1 writer, 4 writers, batches of 100) and fsync=interval while one thread
#           searches, 5% deletes, a consolidation (1 thread) while searching against a full
#           rebuild (2 threads) of the same final set, search p50/p99 idle and during each phase,
#           peak RSS; then 10 rounds of churn (insert 10%, delete 10%, consolidate) on 200K
#           against a fresh build. Writes build/bench/collection-*.jsonl. About 25 minutes here.
#   serve:  strata serve over loopback on strata gen 1M x 128 f32 (one collection, R=64, L=100,
#           PQ 32 B, node cache 32 MiB, 2 workers): the library's own QPS (strata search on the
#           same collection, 1 and 2 threads, L=50) against wrk at 1, 8 and 64 connections (20 s
#           each, 3 runs, medians), 256 connections against a queue of 8 (503s, not timeouts),
#           server RSS, and the recall monitor's gauge against the offline recall of the same
#           2,000 answers (sampling 10%). Writes build/bench/serve-*.jsonl. About 15 minutes.
#   filter: filtered search on strata gen 1M x 128 f32 with Zipf labels (1,000 labels; filters
#           matching 50%, 10%, 1% and 0.1%): the filter-aware index under the auto, graph and
#           scan plans, a plain index post-filtered with larger L, and the exact filtered scan
#           (strata gt); unfiltered queries on both indexes. 1 thread, 1,000 queries, 3 runs,
#           medians. Writes build/bench/filter-*.jsonl. About 25 minutes (filter-prepare: only
#           the data, the two builds and the ground truths).
#   sql:    the overhead of the SQL faces (bench/sql/sql_overhead.sh): strata gen 100K x 128 f32,
#           1,000 queries, k = 10, L = 100, through the C API, the SQLite virtual table and the
#           PostgreSQL extension (one statement for all queries, and one statement per query over
#           the Unix socket); 3 passes, medians. Writes build/bench/sql-overhead.jsonl. About 3
#           minutes (root: runs a PostgreSQL cluster as strata-pg).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
what=${1:-all}
if [[ $what == search ]]; then scripts/setup.sh --with-data --with-bench; else scripts/setup.sh; fi
if [[ $what == serve || $what == all ]]; then scripts/setup.sh --with-bench; fi
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

# strata gen 1M x 128 f32 (seed 42) with 10,000 queries, made once.
ensure_bench_1m_base() {  # dir
  local data=$1
  mkdir -p "$data"
  if [[ ! -s $data/base.fbin ]]; then
    build/tools/strata gen --quiet --n 1000000 --dim 128 --seed 42 --out "$data/base.fbin" \
      --queries 10000 --queries-out "$data/query.fbin"
  fi
}

# The same with the queries' exact top-100.
ensure_bench_1m() {  # dir
  local data=$1
  ensure_bench_1m_base "$data"
  if [[ ! -s $data/gt100.ibin ]]; then
    build/tools/strata gt --quiet --threads 2 --base "$data/base.fbin" \
      --queries "$data/query.fbin" --k 100 --out "$data/gt100.ibin"
  fi
}

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
  ensure_bench_1m "$data"
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

# One data set's search sweep: ours (3 runs each, medians) and the peers', table and plot.
search_sweep() {  # name base queries gt index cache_mb lists pq_bytes limit peers...
  local name=$1 base=$2 queries=$3 gt=$4 index=$5 cache_mb=$6 lists=$7 pq=$8 limit=$9
  shift 9
  local peers=("$@")
  local raw="$out/search-$name.raw.jsonl" med="$out/search-$name.jsonl"
  if [[ ! -s $index/index.strata ]]; then
    echo "strata build: $name, R=64, L=100, alpha=1.2, PQ $pq B, 2 threads"
    /usr/bin/time -f "  peak RSS %M KiB, wall %e s" build/tools/strata build --quiet --json \
      --data "$base" --out "$index" --R 64 --L 100 --alpha 1.2 --pq-bytes "$pq" --threads 2 \
      --force 2>&1
  fi
  : >"$raw"
  local run threads cache modes
  for run in 1 2 3; do
    # 1 thread: pipelined without cache; pipelined and rounds with it; then 2 threads.
    for cfg in "1 0 pipelined" "1 $cache_mb pipelined,rounds" "2 $cache_mb pipelined"; do
      read -r threads cache modes <<<"$cfg"
      build/tools/strata search --json --index "$index" --queries "$queries" --gt "$gt" --k 10 \
        --L "$lists" --beamwidth 4 --threads "$threads" --cache-mb "$cache" --mode "$modes" \
        --limit "$limit" | sed "s/^{/{\"run\": $run, \"cache_mb\": $cache, /" >>"$raw"
    done
  done
  python3 - "$raw" "$med" "$name" <<'PY'
import json, sys, statistics, collections
raw, med, name = sys.argv[1:4]
groups = collections.OrderedDict()
for line in open(raw):
    r = json.loads(line)
    groups.setdefault((r["mode"], r["threads"], r["cache_mb"], r["L"]), []).append(r)
first = next(iter(groups.values()))[0]
print(f"\n{name}: strata search, k=10, W=4, {first['queries']} queries, medians of 3 runs "
      f"(io {first['io']}, O_DIRECT; nav graph {first['nav_nodes']} nodes)\n")
print("| mode | threads | cache MiB | L | recall@10 | QPS | mean us | p50 | p99 | p99.9 | p99/mean | reads | hops | cache hits | peak RSS MiB |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
with open(med, "w") as f:
    for (mode, t, c, L), rs in groups.items():
        m = lambda key: statistics.median(r[key] for r in rs)
        lat = {k: statistics.median(r["latency_us"][k] for r in rs) for k in ("mean", "p50", "p99", "p999")}
        row = dict(rs[0]); row.pop("run")
        row.update(qps=m("qps"), latency_us=lat, reads_mean=m("reads_mean"), hops_mean=m("hops_mean"),
                   cache_hits_mean=m("cache_hits_mean"), recall=m("recall"),
                   system=f"strata {mode} T{t}" + (f" cache {c} MiB" if c else ""))
        f.write(json.dumps(row) + "\n")
        print(f"| {mode} | {t} | {c} | {L} | {row['recall']:.4f} | {row['qps']:.0f} | {lat['mean']:.0f} | "
              f"{lat['p50']:.0f} | {lat['p99']:.0f} | {lat['p999']:.0f} | {lat['p99']/lat['mean']:.2f} | "
              f"{row['reads_mean']:.1f} | {row['hops_mean']:.1f} | {row['cache_hits_mean']:.1f} | "
              f"{row['peak_rss_bytes']/2**20:.0f} |")
PY
  local files=("$med")
  if [[ -x build/bench/peers/peer_bench ]]; then
    local sys_name
    for sys_name in "${peers[@]}"; do
      build/bench/peers/peer_bench --base "$base" --queries "$queries" --gt "$gt" --k 10 \
        --threads 1 --build-threads 2 --system "$sys_name" --pq-bytes "$pq" --limit "$limit" \
        >"$out/search-$name-$sys_name.jsonl" 2>"$out/search-$name-$sys_name.log" || {
          echo "peer $sys_name failed: see $out/search-$name-$sys_name.log"; continue; }
      files+=("$out/search-$name-$sys_name.jsonl")
    done
    echo
    echo "$name: peers (1 search thread, batch size 1)"
    echo
    echo "| system | param | recall@10 | QPS | mean us | p99 us | build s | index RAM MiB |"
    echo "|---|---|---|---|---|---|---|---|"
    python3 - "${files[@]:1}" <<'PY'
import json, sys
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)
        lat = r["latency_us"]
        print(f"| {r['system']} | {r['param']}={r['value']} | {r['recall']:.4f} | {r['qps']:.0f} | "
              f"{lat['mean']:.0f} | {lat['p99']:.0f} | {r['build_seconds']:.1f} | "
              f"{r['index_ram_bytes'] / 2**20:.0f} |")
PY
  else
    echo "(peers skipped: build/bench/peers/peer_bench not built; scripts/setup.sh --with-bench)"
  fi
  if /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then
    /usr/bin/python3 scripts/plot_sweep.py --out "$out/search-$name" \
      --title "$name: recall@10 vs QPS (k=10, 1 thread unless noted)" "${files[@]}" >/dev/null &&
      echo "plot: $out/search-$name.png, points: $out/search-$name.csv"
  fi
}

if [[ $what == collection || $what == all ]]; then
  data=data/bench-1m
  ensure_bench_1m_base "$data"
  echo "## collection writes (1M x 128 f32, seed 42)"
  build/bench/collection_bench writes "$data/base.fbin" "$data/query.fbin" "$out/collection-work" \
    2> >(grep -v ' info ' >&2) | tee "$out/collection-writes.jsonl"
  echo "## collection churn (200K + 10 rounds of 10% inserts and 10% deletes)"
  build/bench/collection_bench churn "$data/base.fbin" "$data/query.fbin" "$out/collection-work" \
    200000 10 2> >(grep -v ' info ' >&2) | tee "$out/collection-churn.jsonl"
fi

if [[ $what == search ]]; then
  STRATA_BIN=build/tools/strata scripts/data.sh fashion-mnist data/fashion-mnist >/dev/null
  # 10% of the nodes' worth of cache: 6,000 nodes of 1,044 + 16 bytes.
  search_sweep fashion-mnist data/fashion-mnist/base.u8bin data/fashion-mnist/query.u8bin \
    data/fashion-mnist/gt100.ibin data/fashion-mnist/index 6.0 10,15,20,25,30,35,40,50,70,100 64 0 \
    hnswlib faiss-hnsw faiss-ivfpq
  data=data/bench-1m
  ensure_bench_1m "$data"
  # 1M x 128 f32: 5 nodes of 772 B per sector; cache 64 MiB = about 8% of the nodes. The first
  # 5,000 queries; peers hnswlib (M=32, ef_construction 200) and FAISS IVF-PQ.
  search_sweep gen-1m "$data/base.fbin" "$data/query.fbin" "$data/gt100.ibin" \
    "$data/index-search" 64 10,20,30,50,100,200 32 5000 hnswlib faiss-ivfpq
fi

if [[ $what == serve || $what == all ]]; then
  data=data/bench-1m
  ensure_bench_1m_base "$data"
  if [[ ! -s $data/gt10.ibin ]]; then
    build/tools/strata gt --quiet --threads 2 --base "$data/base.fbin" \
      --queries "$data/query.fbin" --k 10 --out "$data/gt10.ibin"
  fi
  sdata=$data/serve
  col=$sdata/collections/bench/collection
  if [[ ! -s $col/MANIFEST ]]; then
    rm -rf "$sdata"
    mkdir -p "$(dirname "$col")"
    build/tools/strata ingest "$col" --data "$data/base.fbin" --metric l2 --R 64 --L 100 \
      --pq-bytes 32 --quiet
  fi
  port=${STRATA_BENCH_PORT:-6390}
  python3 bench/server/http_client.py bodies "$data/query.fbin" "$out/serve-bodies.txt" --L 50
  serve_start() {  # flags...
    build/tools/strata serve --data-dir "$sdata" --port "$port" --cache-mib 32 --workers 2 "$@" \
      >"$out/serve.out" 2>"$out/serve.log" &
    serve_pid=$!
    for _ in $(seq 1 600); do
      [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz") == 200 ]] && return
      sleep 0.2
    done
    echo "server not ready" >&2; tail "$out/serve.log" >&2; exit 1
  }
  serve_stop() { kill -TERM "$serve_pid"; wait "$serve_pid" || true; }
  rss_mib() { echo $(( $(awk '/VmRSS/ {print $2}' "/proc/$serve_pid/status") / 1024 )); }
  : >"$out/serve-load.jsonl"
  echo "## library: strata search on the same collection (L=50, cache 32 MiB, all 10,000 queries)"
  for t in 1 2; do
    for run in 1 2 3; do
      build/tools/strata search --json --quiet --index "$col" --queries "$data/query.fbin" \
        --gt "$data/gt10.ibin" --k 10 --L 50 --beamwidth 4 --threads "$t" --cache-mb 32 |
        sed "s/^{/{\"run\": $run, /" | tee -a "$out/serve-load.jsonl"
    done
  done
  echo "## recall monitor (10% sampled) vs offline recall of the same answers"
  serve_start --recall-sample 0.1
  python3 bench/server/http_client.py recall "$data/query.fbin" "$data/gt10.ibin" --port "$port" \
    --L 50 --n 2000 | tee "$out/serve-recall.jsonl"
  serve_stop
  echo "## wrk over loopback (L=50, 20 s per point)"
  serve_start
  echo "{\"system\": \"server\", \"rss_mib_idle\": $(rss_mib)}" | tee -a "$out/serve-load.jsonl"
  for c in 1 8 64; do
    threads=$(( c == 1 ? 1 : 2 ))
    for run in 1 2 3; do
      STRATA_BODIES="$out/serve-bodies.txt" wrk -t "$threads" -c "$c" -d 20s --timeout 10s \
        -s bench/server/search.lua "http://127.0.0.1:$port" | grep '^JSON ' | sed 's/^JSON //' |
        sed "s/^{/{\"system\": \"wrk\", \"connections\": $c, \"run\": $run, \"rss_mib\": $(rss_mib), /" |
        tee -a "$out/serve-load.jsonl"
    done
  done
  serve_stop
  echo "## overload: 256 connections against a queue of 8"
  serve_start --queue 8
  STRATA_BODIES="$out/serve-bodies.txt" wrk -t 2 -c 256 -d 20s --timeout 10s \
    -s bench/server/search.lua "http://127.0.0.1:$port" | grep '^JSON ' | sed 's/^JSON //' |
    sed "s/^{/{\"system\": \"wrk-overload\", \"connections\": 256, \"queue\": 8, \"rss_mib\": $(rss_mib), /" |
    tee -a "$out/serve-load.jsonl"
  serve_stop
  python3 - "$out/serve-load.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
lib = {}
for r in rows:
    if r.get("system") == "strata-collection":
        lib.setdefault(r["threads"], []).append(r["qps"])
print("\n| client | QPS (median of 3) | p50 us | p99 us | non-2xx | vs library |")
print("|---|---|---|---|---|---|")
for t, q in sorted(lib.items()):
    print(f"| library, {t} thread(s) | {statistics.median(q):.0f} | | | | 1.00 |")
for c in (1, 8, 64):
    rs = [r for r in rows if r.get("system") == "wrk" and r["connections"] == c]
    if not rs:
        continue
    qps = statistics.median(r["qps"] for r in rs)
    base = statistics.median(lib[1 if c == 1 else 2])
    print(f"| wrk, {c} connection(s) | {qps:.0f} | {statistics.median(r['p50_us'] for r in rs):.0f} "
          f"| {statistics.median(r['p99_us'] for r in rs):.0f} | {sum(r['non2xx'] for r in rs)} "
          f"| {qps / base:.2f} |")
for r in rows:
    if r.get("system") == "wrk-overload":
        print(f"| wrk, 256 connections, queue 8 | {r['qps']:.0f} ok+503 | {r['p50_us']} | "
              f"{r['p99_us']} | {r['non2xx']} (503) | timeouts {r['timeouts']} |")
PY
fi

# ---- filtered search --------------------------------------------------------------------------
# strata gen 1M x 128 f32 (seed 42), 1,000 queries, one label per row from Zipf(1) over 1,000
# labels; the filter-aware index (--labels) and a plain one (R=64, L=100, PQ 32 B); exact
# filtered ground truth per filter (its wall time is the full-scan baseline).
filter_names=(sel50 sel10 sel1 sel01)
filter_json() {  # name
  case $1 in
    sel50) # L0..L22: 49.9% of the rows
      local any="" i
      for i in $(seq 0 22); do any+="\"L$i\","; done
      echo "{\"must\":[{\"key\":\"label\",\"match\":{\"any\":[${any%,}]}}]}" ;;
    sel10) echo '{"must":[{"key":"label","match":{"any":["L1","L3"]}}]}' ;;  # 6.7% + 3.3%
    sel1) echo '{"must":[{"key":"label","match":{"value":"L12"}}]}' ;;       # 1.03%
    sel01) echo '{"must":[{"key":"label","match":{"value":"L133"}}]}' ;;     # 0.0997%
  esac
}
filter_prepare() {
  local data=data/bench-filter
  mkdir -p "$data"
  if [[ ! -s $data/labels.txt ]]; then
    build/tools/strata gen --quiet --n 1000000 --dim 128 --seed 42 --out "$data/base.fbin" \
      --queries 1000 --queries-out "$data/query.fbin" --labels 1000 --labels-out "$data/labels.txt"
  fi
  if [[ ! -s $data/filtered/index.strata ]]; then
    /usr/bin/time -f "filter-aware build: peak RSS %M KiB, wall %e s" build/tools/strata build \
      --quiet --json --data "$data/base.fbin" --labels "$data/labels.txt" --out "$data/filtered" \
      --threads 2 --force | tee "$out/filter-build.jsonl"
  fi
  if [[ ! -s $data/plain/index.strata ]]; then
    /usr/bin/time -f "plain build: peak RSS %M KiB, wall %e s" build/tools/strata build \
      --quiet --json --data "$data/base.fbin" --out "$data/plain" --threads 2 --force |
      tee -a "$out/filter-build.jsonl"
  fi
  if [[ ! -s $data/gt-none.ibin ]]; then
    build/tools/strata gt --quiet --threads 2 --base "$data/base.fbin" \
      --queries "$data/query.fbin" --k 10 --out "$data/gt-none.ibin"
  fi
  local f
  for f in "${filter_names[@]}"; do
    if [[ ! -s $data/gt-$f.ibin ]]; then
      build/tools/strata gt --quiet --threads 2 --base "$data/base.fbin" \
        --queries "$data/query.fbin" --k 10 --labels "$data/labels.txt" \
        --filter "$(filter_json $f)" --out "$data/gt-$f.ibin"
    fi
  done
}
if [[ $what == filter-prepare ]]; then filter_prepare; fi
if [[ $what == filter || $what == all ]]; then
  filter_prepare
  data=data/bench-filter
  rm -f "$out/filter-search.jsonl"
  tag() { sed "s/^{/{\"run\": $1, \"selectivity\": \"$2\", \"setup\": \"$3\", /" | tee -a "$out/filter-search.jsonl" >/dev/null; }
  s=(build/tools/strata search --quiet --json --queries "$data/query.fbin" --threads 1 --k 10)
  for run in 1 2 3; do
    for f in "${filter_names[@]}"; do
      fj=$(filter_json $f)
      for plan in auto graph scan; do
        "${s[@]}" --index "$data/filtered" --gt "$data/gt-$f.ibin" --filter "$fj" \
          --filter-plan $plan --L 10,20,50,100,200 | tag $run $f filtered-$plan
      done
      "${s[@]}" --index "$data/plain" --gt "$data/gt-$f.ibin" --filter "$fj" \
        --post-filter "$data/labels.txt" --L 100,200,500,1000 | tag $run $f plain-postfilter
      # Full scan: the exact filtered scan of strata gt (2 threads, base in the page cache).
      t0=$(date +%s.%N)
      build/tools/strata gt --quiet --threads 2 --base "$data/base.fbin" \
        --queries "$data/query.fbin" --k 10 --labels "$data/labels.txt" --filter "$fj" \
        --out "$out/filter-scan.ibin"
      t1=$(date +%s.%N)
      echo "{\"run\": $run, \"selectivity\": \"$f\", \"setup\": \"exact-scan\", \"qps\": $(python3 -c "print(1000/($t1-$t0))"), \"recall\": 1.0, \"L\": 0, \"reads_mean\": 0, \"short_results\": 0, \"threads\": 2}" >>"$out/filter-search.jsonl"
    done
    for idx in filtered plain; do
      "${s[@]}" --index "$data/$idx" --gt "$data/gt-none.ibin" --L 10,20,30,50,100 |
        tag $run none $idx
    done
  done
  python3 - "$out/filter-search.jsonl" <<'PY'
import json, statistics, sys, collections
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
groups = collections.OrderedDict()
for r in rows:
    groups.setdefault((r["selectivity"], r["setup"], r["L"]), []).append(r)
sel = {"sel50": "50%", "sel10": "10%", "sel1": "1%", "sel01": "0.1%", "none": "unfiltered"}
print("\n| filter | index / plan | L | recall@10 | QPS (median of 3) | reads/query | PQ-scanned | short results |")
print("|---|---|---|---|---|---|---|---|")
for (f, idx, L), rs in groups.items():
    med = lambda k: statistics.median(r.get(k, 0) or 0 for r in rs)
    print(f"| {sel[f]} | {idx} | {L or '-'} | {med('recall'):.4f} | {med('qps'):.0f} | "
          f"{med('reads_mean'):.1f} | {med('scanned_mean'):.0f} | {max(r.get('short_results', 0) for r in rs)} |")
PY
fi
if [[ $what == sql || $what == all ]]; then bench/sql/sql_overhead.sh build; fi
