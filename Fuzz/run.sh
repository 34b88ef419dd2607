#!/usr/bin/env bash
# Builds a libFuzzer target (optimised, with AddressSanitizer) and runs it on its committed seed
# corpus, then prints one summary line: executions, exec/s against the 1 000/s floor, coverage.
#   Fuzz/run.sh TARGET SECONDS       e.g. Fuzz/run.sh RingFuzz 60
#   Fuzz/run.sh --list               the targets
# New interesting inputs go to a scratch corpus (Fuzz/corpus-work/TARGET, ignored by git);
# crashes are written to the current directory as crash-*. Copy a crash into
# Fuzz/Regressions/TARGET/ so the unit tests replay it forever. A dictionary at
# Fuzz/dictionaries/TARGET.dict is passed to libFuzzer when present.
# Environment: FUZZ_SCRATCH (build folder, default .build-fuzz), FUZZ_WORK (working corpus
# folder), FUZZ_LOG (where libFuzzer's output goes, default a temporary file), FUZZ_ARGS (more
# libFuzzer flags), FUZZ_NO_SEEDS=1 (start from the working corpus alone, empty if new: what the
# fuzzer finds with no help from the committed inputs), FUZZ_ONE_BUILD=1 (every target from the
# one build folder, RingFuzz included with the others' coverage flags: CI's short smoke runs, where
# a second optimised build of the core costs more than RingFuzz's slower executions).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(RingFuzz HeartbeatFuzz DiffFuzz DispatcherRequestFuzz HeartbeatDatagramFuzz EtcdResponseFuzz AgentStreamFuzz MasterWorkerMessageFuzz CommandLineFuzz)
if [[ "${1:-}" == "--list" ]]; then printf '%s\n' "${targets[@]}"; exit 0; fi
target="${1:?usage: Fuzz/run.sh TARGET SECONDS (Fuzz/run.sh --list names the targets)}"
seconds="${2:?usage: Fuzz/run.sh TARGET SECONDS}"
[[ " ${targets[*]} " == *" $target "* ]] || { echo "unknown target $target; one of: ${targets[*]}" >&2; exit 2; }
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "SECONDS must be a positive whole number, not '$seconds'" >&2; exit 2; }
seeds="Fuzz/corpus/${target}"
[[ -d "$seeds" ]] || { echo "no seed corpus at $seeds" >&2; exit 2; }

scratch="${FUZZ_SCRATCH:-.build-fuzz}"
coverage=()
case "${FUZZ_ONE_BUILD:-}:$target" in
    # RingFuzz's bytes pick operations modulo small counts and hash words that go through
    # XXH64, so tracing comparisons (libFuzzer's trace-cmp) cannot steer it; it only doubled the
    # cost of the sorting and table loops a membership change runs. Edge counters alone, in a
    # build folder of their own so the other targets keep trace-cmp.
    :RingFuzz)
        coverage=(-Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table)
        scratch="$scratch-edge"
        ;;
esac
# -c release: the harnesses check their models themselves, so the optimiser only removes the
# library's debug-only invariant walks (each harness runs the full walk at the end of an input).
# `--sanitize=fuzzer` links libFuzzer; `-sanitize=fuzzer,address` instruments for coverage and ASan.
# Line tables only: an ASan report names files and lines with them, and the build is smaller.
# flock: parallel runs (the planted-bug script, a developer's shells) build one at a time, as
# two Swift builds side by side on two cores take longer than one after the other.
build_log=$(mktemp)
if ! flock "${TMPDIR:-/tmp}/beacon-swift-build.lock" \
    swift build -c release --scratch-path "$scratch" --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address \
    -Xswiftc -gline-tables-only -Xcc -gline-tables-only \
    "${coverage[@]}" --product "$target" >"$build_log" 2>&1; then
    grep -v '^\[' "$build_log" | tail -n 40 >&2
    echo "$target: build failed" >&2
    exit 1
fi
rm -f "$build_log"
binary="$scratch/release/${target}"

work="${FUZZ_WORK:-Fuzz/corpus-work/${target}}"
mkdir -p "$work"
flags=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1)
case "$target" in
    # Membership changes rebuild five placers; long inputs only repeat what short ones reach.
    RingFuzz) flags+=(-max_len=1024) ;;
    *) flags+=(-max_len=4096) ;;
esac
dictionary="Fuzz/dictionaries/${target}.dict"
[[ -f "$dictionary" ]] && flags+=(-dict="$dictionary")
# shellcheck disable=SC2206
flags+=(${FUZZ_ARGS:-})
log="${FUZZ_LOG:-$(mktemp)}"
status=0
started=$SECONDS
# SWIFT_BACKTRACE=enable=no: without it a crash can hang for minutes in the backtracer.
corpora=("$work")
[[ "${FUZZ_NO_SEEDS:-}" == 1 ]] || corpora+=("$seeds")
SWIFT_BACKTRACE=enable=no "$binary" "${corpora[@]}" "${flags[@]}" >"$log" 2>&1 || status=$?
elapsed=$((SECONDS - started))
if [[ $status -ne 0 ]]; then
    tail -n 40 "$log"
    finding=$(grep -m 1 -E "Fatal error|ERROR: AddressSanitizer|ERROR: libFuzzer|==ERROR" "$log" || true)
    echo "$target: FAILED after ${elapsed} s (libFuzzer exit $status: ${finding:-see the log}; full output in $log)"
    exit "$status"
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
coverage=$(grep -E '^#[0-9]+' "$log" | grep -o 'cov: [0-9]*' | tail -n 1 | cut -d' ' -f2)
features=$(grep -E '^#[0-9]+' "$log" | grep -o 'ft: [0-9]*' | tail -n 1 | cut -d' ' -f2)
corpus=$(find "$work" -type f | wc -l)
verdict="below the 1000/s floor"
[[ "${rate:-0}" -ge 1000 ]] && verdict="meets the 1000/s floor"
echo "$target: ${seconds} s, ${runs:-0} runs, ${rate:-0} exec/s ($verdict), coverage ${coverage:-0} edges, ${features:-0} features, working corpus ${corpus} inputs"
