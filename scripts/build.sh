#!/usr/bin/env bash
# Configures and builds strata. Usage: scripts/build.sh [build-dir] [extra cmake args...]
# Default: build/ in Release with assertions on and warnings as errors. STRATA_TARGETS (space-
# separated) builds only those targets.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRATA_ASSERTS=ON -DSTRATA_WERROR=ON \
  "$@" >/dev/null
targets=()
for t in ${STRATA_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$dir" -j "${STRATA_JOBS:-2}" "${targets[@]}"
