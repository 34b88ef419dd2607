#!/usr/bin/env bash
# Builds a libFuzzer target with AddressSanitizer and runs it on its committed seed corpus.
#   Fuzz/run.sh TARGET SECONDS       e.g. Fuzz/run.sh RingFuzz 30
# New interesting inputs go to a scratch corpus (Fuzz/corpus-work/, ignored by git); crashes are
# written to the current directory as crash-*. Copy a crash into Fuzz/Regressions/TARGET/ so the
# unit tests replay it forever.
set -euo pipefail
target="${1:?usage: Fuzz/run.sh TARGET SECONDS}"
seconds="${2:?usage: Fuzz/run.sh TARGET SECONDS}"
cd "$(dirname "$0")/.."
seeds="Fuzz/corpus/${target}"
[[ -d "$seeds" ]] || { echo "no seed corpus at $seeds" >&2; exit 2; }
swift build -c debug --scratch-path .build-fuzz --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address --product "$target"
work="Fuzz/corpus-work/${target}"
mkdir -p "$work"
# SWIFT_BACKTRACE=enable=no: without it a crash can hang for minutes in the backtracer.
SWIFT_BACKTRACE=enable=no ".build-fuzz/debug/${target}" "$work" "$seeds" \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1
