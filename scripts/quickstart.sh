#!/usr/bin/env bash
# The main job end to end on a default data set: install, build, generate data, compute exact
# ground truth, build a disk index, verify it, and search it from the SSD (io_uring, O_DIRECT)
# with a sweep of list sizes: recall, QPS, latency and reads per query; then load the vectors
# into a collection, start `strata serve` on it, wait for /readyz and query it with curl.
# Usage: scripts/quickstart.sh [N] [DIM]   (default 100000 x 128, f32, l2)
#   PORT=6333 (default) picks the server's port; KEEP_SERVING=1 leaves the server running.
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

port=${PORT:-6333}
server_dir=$dir/server
echo "== load the vectors into collection 'quickstart' (offline builder) and serve it on port $port"
rm -rf "$server_dir"
mkdir -p "$server_dir/collections/quickstart"
"$strata" ingest "$server_dir/collections/quickstart/collection" --data "$dir/base.fbin" --metric l2 \
  --quiet
"$strata" serve --data-dir "$server_dir" --port "$port" >"$dir/serve.out" 2>"$dir/serve.log" &
server_pid=$!
stop_server() { kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" || true; }
[[ "${KEEP_SERVING:-0}" == 1 ]] || trap stop_server EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 600); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$base/readyz") == 200 ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$dir/serve.log" >&2; exit 1; }
  sleep 0.2
done
query=$(python3 -c '
import struct, sys
with open(sys.argv[1], "rb") as f:
    n, d = struct.unpack("<II", f.read(8))
    print(",".join("%.4f" % x for x in struct.unpack("<%df" % d, f.read(4 * d))))' "$dir/query.fbin")
show() { echo "\$ $1"; eval "$1"; echo; }
show "curl -s $base/readyz"
show "curl -s $base/collections/quickstart"
show "curl -s -X POST $base/collections/quickstart/points/search -d '{\"vector\": [$query], \"limit\": 5, \"params\": {\"search_list\": 50}}'"
show "curl -s -X PUT $base/collections/quickstart/points -d '{\"points\": [{\"id\": 1000000, \"vector\": [$query], \"payload\": {\"title\": \"my first point\"}}]}'"
show "curl -s -X POST $base/collections/quickstart/points/search -d '{\"vector\": [$query], \"limit\": 2, \"with_payload\": true}'"
show "curl -s $base/metrics | grep -E '^strata_(search_latency_seconds|collection_points|http_requests_total)' | head -8"
cat <<EOT
quickstart: done; files in $dir
Try more (docs/server.md has the whole API):
  $strata serve --data-dir $server_dir --port $port      # start the server again
  curl -s $base/collections/quickstart
  curl -s -X POST $base/collections/quickstart/points/search -d '{"vector": [...], "limit": 10}'
  curl -s -X POST $base/collections/quickstart/snapshots
  curl -s $base/metrics
EOT
