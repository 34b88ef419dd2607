#!/usr/bin/env bash
# Shows that each fuzz target still finds bugs: for every Fuzz/planted/TARGET.patch, applies the
# patch (a realistic bug in the library, not in the harness) to a copy of this tree and fuzzes the
# copy twice: from the committed seed corpus (the bug must be found within the limit), and from
# nothing at all (what the fuzzer finds on its own; reported, not required).
#   Fuzz/planted.sh [SECONDS] [TARGET...]      default: 60 s, every target with a patch
# Prints one line per run (found after N s, or MISSED) and exits 1 if a seeded run missed its bug.
# The copy lives in .build-planted/tree (ignored by git) and keeps its build folder between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "SECONDS must be a positive whole number, not '$seconds'" >&2; exit 2; }
shift || true
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    targets=()
    for patch in Fuzz/planted/*.patch; do targets+=("$(basename "$patch" .patch)"); done
fi
root=$PWD
tree="$root/.build-planted/tree"
mkdir -p "$tree"
# One planted run at a time: they share the copy.
exec 9>"$root/.build-planted/lock"
flock 9
missed=0
summary=()
for target in "${targets[@]}"; do
    patch="Fuzz/planted/${target}.patch"
    [[ -f "$patch" ]] || { echo "no planted bug for $target at $patch" >&2; exit 2; }
    # A fresh copy of the sources; tar keeps modification times, so the copy's build stays
    # incremental. Files any patch touches are touched after the copy, so a bug planted by an
    # earlier round is rebuilt away even though its restored file carries an old time.
    tar --exclude='./.build*' --exclude=./.git --exclude=./Fuzz/corpus-work -cf - . | tar -xf - -C "$tree"
    (cd "$tree" && grep -h '^+++ b/' Fuzz/planted/*.patch | cut -c7- | sort -u | xargs touch -c)
    (cd "$tree" && patch -s -p1 <"$patch")
    echo "=== $target: planted $(head -n 1 "$patch" | sed 's/^# *//')"
    for start in seeds nothing; do
        log=$(mktemp)
        work=$(mktemp -d)
        no_seeds=0
        [[ $start == nothing ]] && no_seeds=1
        (cd "$tree" && FUZZ_NO_SEEDS=$no_seeds FUZZ_WORK="$work" FUZZ_LOG="$log" \
            Fuzz/run.sh "$target" "$seconds" >"$log.summary" 2>&1) || true
        last=$(tail -n 1 "$log.summary")
        if [[ "$last" == "$target: FAILED after"* ]]; then
            finding=${last#"$target: FAILED "}
            line="$target (from $start): found ${finding%%; full output in *})"
        else
            # A clean run, or one that never started (a patch that does not build): both miss.
            line="$target (from $start): MISSED in ${seconds} s ($last)"
            [[ $start == seeds ]] && missed=1
        fi
        echo "$line"
        summary+=("$line")
        rm -rf "$work" "$log" "$log.summary"
    done
done
echo
printf '%s\n' "${summary[@]}"
exit $missed
