#!/usr/bin/env bash
# Regenerates Generated/*.swift from dispatcher.proto. The generated files are committed, so a
# normal build never runs protoc or its plugins; run this only after editing the .proto.
#
# Needs Debian's protoc (`apt-get install -y protobuf-compiler`). The two plugins are built from
# the versions Package.swift pins (swift-protobuf's protoc-gen-swift and grpc-swift-protobuf's
# protoc-gen-grpc-swift-2, about 10 minutes the first time) in .build-protoc; set
# PROTOC_GEN_SWIFT and PROTOC_GEN_GRPC_SWIFT to use plugins built elsewhere.
#
# Each generated file is wrapped in `#if GRPC … #endif`: without the package's GRPC trait this
# target compiles to nothing and gRPC is not built.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }

if [[ -z "${PROTOC_GEN_SWIFT:-}" || -z "${PROTOC_GEN_GRPC_SWIFT:-}" ]]; then
    build=(swift build -c release --package-path "$root" --scratch-path "$root/.build-protoc" --traits GRPC)
    "${build[@]}" --product protoc-gen-swift
    "${build[@]}" --product protoc-gen-grpc-swift-2
    bin=$("${build[@]}" --show-bin-path)
    PROTOC_GEN_SWIFT=$bin/protoc-gen-swift
    PROTOC_GEN_GRPC_SWIFT=$bin/protoc-gen-grpc-swift-2
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
protoc \
    --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
    --plugin=protoc-gen-grpc-swift-2="$PROTOC_GEN_GRPC_SWIFT" \
    --swift_out="$out" --swift_opt=Visibility=Public,UseAccessLevelOnImports=true \
    --grpc-swift-2_out="$out" --grpc-swift-2_opt=Visibility=Public,UseAccessLevelOnImports=true \
    -I "$here" dispatcher.proto

mkdir -p "$here/Generated"
rm -f "$here"/Generated/*.swift
for file in "$out"/*.swift; do
    # swift-format honours its ignore comment only before the first line of code, so it goes
    # above the trait's #if (protoc's own copy of it ends up inside).
    { echo "// swift-format-ignore-file"; echo "#if GRPC"; cat "$file"; echo "#endif"; } >"$here/Generated/$(basename "$file")"
done
ls -l "$here/Generated"
