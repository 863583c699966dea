#!/usr/bin/env bash
# The test command: installs what is missing, builds (Release with assertions), runs the whole
# ctest suite, then an AddressSanitizer + UndefinedBehaviorSanitizer build of the unit tests and
# a ThreadSanitizer build of the concurrent ones (the WAL's group commit, HNSW adds beside searches,
# a collection's writers, deleters, searchers and background consolidation running together, and
# the HTTP server's network threads, workers and recall monitor). The unit label includes the
# malformed-request suite and a 15 s run of the request fuzzer, so both also run under ASan.
# Exits non-zero on any failure. Usage: scripts/test.sh [--no-asan]
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

scripts/setup.sh --with-data

echo "== build (Release, assertions on)"
scripts/build.sh build
echo "== ctest (all labels)"
ctest --test-dir build --output-on-failure -j 2 --timeout 900

if [[ "${1:-}" != "--no-asan" ]]; then
  echo "== build (ASan + UBSan)"
  # Sanitizer builds trip false-positive warnings in fmt; warnings are enforced by the build above.
  scripts/build.sh build-asan -DSTRATA_ASAN=ON -DSTRATA_WERROR=OFF -DSTRATA_BUILD_BENCH=OFF
  echo "== ctest (unit, ASan + UBSan)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j 2 -L unit --timeout 900
  echo "== build (ThreadSanitizer: concurrent tests)"
  STRATA_TARGETS="wal_test hnsw_test collection_test collection_filter_test server_test" scripts/build.sh build-tsan -DSTRATA_TSAN=ON -DSTRATA_WERROR=OFF \
    -DSTRATA_BUILD_BENCH=OFF
  echo "== ctest (concurrent tests, ThreadSanitizer)"
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build-tsan --output-on-failure -j 2 \
    -R '^(Wal|Hnsw|Server)\.|^Collection\.Concurrent|^CollectionFilter\.Concurrent' --timeout 900
fi
echo "== all tests passed in $(( $(date +%s) - start )) s"
