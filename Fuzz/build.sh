#!/usr/bin/env bash
# Builds the libFuzzer target for the model-file loader:
#   Fuzz/build.sh [OUTPUT_DIR]        (default .build/fuzz)  ->  OUTPUT_DIR/loader-fuzzer
# NNCore's Swift sources and NNSchema's C source are compiled here, outside SwiftPM, with
# coverage instrumentation (-sanitize=fuzzer) and AddressSanitizer, then linked with libFuzzer,
# the static libprotobuf-c (not instrumented) and OpenBLAS. Needs the Swift toolchain's swiftc
# and clang (found next to swiftc) and the Debian packages libprotobuf-c-dev and libopenblas-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${1:-.build/fuzz}
mkdir -p "$OUT/obj" "$OUT/modules/NNSchema"
OUT=$(cd "$OUT" && pwd)

SWIFTC=${SWIFTC:-$(command -v swiftc)}
CLANG=${CLANG:-$(dirname "$(readlink -f "$SWIFTC")")/clang}
[ -x "$CLANG" ] || CLANG=$(command -v clang)
PROTOBUF_C_A=${PROTOBUF_C_A:-$( (ls /usr/lib/*/libprotobuf-c.a /usr/lib/libprotobuf-c.a 2>/dev/null || true) | head -1)}
[ -n "$PROTOBUF_C_A" ] || { echo "error: libprotobuf-c.a not found (apt-get install libprotobuf-c-dev)" >&2; exit 1; }

# NNSchema: protoc-c's C output, instrumented, plus a module map for Swift.
"$CLANG" -c -O1 -g -fsanitize=fuzzer-no-link,address \
    -I Sources/NNSchema/include Sources/NNSchema/nncore.pb-c.c -o "$OUT/obj/nncore.pb-c.o"
cat > "$OUT/modules/NNSchema/module.modulemap" <<MAP
module NNSchema {
    header "$ROOT/Sources/NNSchema/include/nncore.pb-c.h"
    export *
}
MAP

# NNCore: one module, optimised (overflow and bounds checks stay on: -O is not -Ounchecked).
mapfile -t SOURCES < <(find Sources/NNCore -name '*.swift' | sort)
"$SWIFTC" -O -g -parse-as-library -module-name NNCore -package-name nncore \
    -sanitize=fuzzer,address -enable-testing \
    -I Sources/CBLAS -I "$OUT/modules" \
    -emit-module -emit-module-path "$OUT/modules/NNCore.swiftmodule" \
    -emit-object -wmo -o "$OUT/obj/NNCore.o" "${SOURCES[@]}"

# The fuzzer: libFuzzer supplies main().
"$SWIFTC" -O -g -parse-as-library -module-name LoaderFuzzer -sanitize=fuzzer,address -use-ld=lld \
    -I "$OUT/modules" -I Sources/CBLAS \
    Fuzz/LoaderFuzzer/LoaderFuzzer.swift "$OUT/obj/NNCore.o" "$OUT/obj/nncore.pb-c.o" \
    "$PROTOBUF_C_A" -lopenblas -o "$OUT/loader-fuzzer"
echo "built $OUT/loader-fuzzer"
