#!/usr/bin/env bash
# The installed library: `cmake --install` into a temporary prefix, then a consumer project
# built against it with find_package (shared and static) and with pkg-config (shared and
# static), each run; and libstrata.so exports strata_* symbols only, under SONAME libstrata.so.0.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata_install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
for f in include/strata/strata.h include/strata/collection.hpp lib/libstrata.a \
         lib/libstrata.so lib/libstrata.so.0 lib/libstrata.so.0.1.0 \
         lib/cmake/strata/strataConfig.cmake lib/cmake/strata/strataConfigVersion.cmake \
         lib/cmake/strata/strataTargets.cmake lib/pkgconfig/strata.pc; do
  [[ -e $prefix/$f ]] || { echo "FAIL: $f not installed"; exit 1; }
done
headers=$(find "$prefix/include" -type f | sed "s|$prefix/include/||" | sort)
expected=$(cd "$src/include" && find strata -type f | sort)
[[ $headers == "$expected" ]] || { echo "FAIL: installed headers differ from include/strata:
$headers"; exit 1; }

so=$prefix/lib/libstrata.so.0.1.0
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $soname == libstrata.so.0 ]] || { echo "FAIL: SONAME is '$soname'"; exit 1; }
nm -D --defined-only "$so" | awk '{print $NF}' >"$tmp/exported"
if grep -v '^strata_' "$tmp/exported"; then
  echo "FAIL: libstrata.so exports the symbols above (only strata_* may leave it)"; exit 1
fi
for sym in strata_collection_open strata_collection_search strata_index_search strata_version; do
  grep -qx "$sym" "$tmp/exported" || { echo "FAIL: $sym not exported"; exit 1; }
done
echo "libstrata.so.0: $(wc -l <"$tmp/exported") symbols, all strata_*"

# find_package(strata) -> strata::strata and strata::strata_static.
cmake -S "$src/tests/capi/consumer" -B "$tmp/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/consumer" >"$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
# The shared consumer resolves libstrata.so.0 from the install prefix (build RPATH).
# (ldd's output is captured first: grep -q closing the pipe early fails it under pipefail.)
deps=$(ldd "$tmp/consumer/consumer_shared")
grep -qF "$prefix/lib/libstrata.so.0" <<<"$deps" ||
  { echo "FAIL: consumer_shared does not load the installed libstrata.so.0"; exit 1; }
deps=$(ldd "$tmp/consumer/consumer_static")
if grep -q libstrata <<<"$deps"; then echo "FAIL: consumer_static loads libstrata.so"; exit 1; fi
"$tmp/consumer/consumer_shared" "$tmp/c1"
"$tmp/consumer/consumer_static" "$tmp/c2"

# pkg-config.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
[[ $(pkg-config --modversion strata) == 0.1.0 ]] || { echo "FAIL: pkg-config version"; exit 1; }
cc -std=c11 -Wall -Werror "$src/tests/capi/consumer/consumer.c" $(pkg-config --cflags --libs strata) \
  -Wl,-rpath,"$prefix/lib" -o "$tmp/pc_shared"
"$tmp/pc_shared" "$tmp/c3"
cc -std=c11 -Wall -Werror "$src/tests/capi/consumer/consumer.c" $(pkg-config --cflags strata) \
  "$prefix/lib/libstrata.a" $(pkg-config --static --libs strata | sed 's/-lstrata\b//') \
  -o "$tmp/pc_static"
"$tmp/pc_static" "$tmp/c4"
echo "install_test: all consumers built and ran"
