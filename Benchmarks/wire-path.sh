#!/usr/bin/env bash
# The wire-path benchmark (docs/benchmarks.md, "The dispatcher over gRPC"): `beacon loadgen`
# against `beacon serve` and against `beacon serve --echo` (the same transport with no dispatcher
# behind it), alternating, the server pinned to one core and the load generator to another so
# neither measures the other.
#
#   swift build -c release --traits GRPC --product beacon
#   Benchmarks/wire-path.sh [rounds] [loadgen options...]     # e.g. 2 --nodes 10000 --duration 30s
#
# Each round measures heartbeat calls against `serve` (answered on the event loop),
# `serve --grpc-swift-heartbeats` (answered through grpc-swift, as every other call) and
# `serve --echo`, then beats as datagrams against `serve --heartbeat-datagrams` (skipped when the
# options ask for --unary-heartbeats).
#
# The servers run with the default heartbeat settings (5 s ± 0.5 s, grace 3), so leave loadgen's
# --period, --jitter and --grace at theirs. Environment: BEACON (the binary, default .build/release/beacon), SERVER_CPU and LOADGEN_CPU
# (default 0 and 1).
set -euo pipefail

beacon=${BEACON:-.build/release/beacon}
server_cpu=${SERVER_CPU:-0}
loadgen_cpu=${LOADGEN_CPU:-1}
rounds=${1:-1}
shift || true
[[ -x $beacon ]] || { echo "no $beacon: build it with swift build -c release --traits GRPC --product beacon" >&2; exit 64; }
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "rounds must be a positive whole number, not '$rounds'" >&2; exit 64; }
command -v taskset >/dev/null || { echo "taskset is missing (util-linux)" >&2; exit 69; }
[[ $server_cpu != "$loadgen_cpu" ]] || { echo "SERVER_CPU and LOADGEN_CPU are both $server_cpu: give each its own core" >&2; exit 64; }
log=$(mktemp -d)
server=""
# A failed or interrupted run stops its server too, so no server is left holding a core.
trap '[[ -n $server ]] && kill "$server" 2>/dev/null; rm -rf "$log"' EXIT

# Starts a server on a free loopback port, runs the load generator against it (with the
# lane_options of the lane measured), stops the server.
measure() {
    local name=$1
    shift
    taskset -c "$server_cpu" "$beacon" serve --listen 127.0.0.1:0 --report-every 1h "$@" >"$log/serve" 2>&1 &
    server=$!
    local address=""
    for _ in $(seq 100); do
        address=$(sed -n 's/^serving .* on \(127\.0\.0\.1:[0-9]*\).*/\1/p' "$log/serve")
        [[ -n $address ]] && break
        kill -0 $server 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z $address ]]; then
        cat "$log/serve" >&2
        kill $server 2>/dev/null || true
        return 1
    fi
    echo "== $name ($address)"
    local status=0
    taskset -c "$loadgen_cpu" "$beacon" loadgen --manager "$address" --server-pid $server \
        ${loadgen_options[@]+"${loadgen_options[@]}"} ${lane_options[@]+"${lane_options[@]}"} \
        >"$log/loadgen" 2>&1 || status=$?
    grep -E '^(heartbeats|heartbeat RPC|false DOWNs|stopped agents the|server|load generator)' "$log/loadgen" || true
    kill -TERM $server
    wait $server || true
    server=""
    if ((status != 0)); then
        cat "$log/loadgen" >&2
        return $status
    fi
}

loadgen_options=("$@")
# The datagram lane runs too, unless the options ask for unary heartbeats.
datagrams=1
for option in "$@"; do
    [[ $option == --unary-heartbeats ]] && datagrams=0
    [[ $option == --datagram-heartbeats ]] && { echo "the script adds --datagram-heartbeats itself, for its fourth server" >&2; exit 64; }
done
for round in $(seq "$rounds"); do
    echo "# round $round of $rounds"
    lane_options=()
    measure "beacon serve"
    measure "beacon serve --grpc-swift-heartbeats" --grpc-swift-heartbeats
    measure "beacon serve --echo" --echo
    if ((datagrams)); then
        lane_options=(--datagram-heartbeats)
        measure "beacon serve --heartbeat-datagrams (loadgen --datagram-heartbeats)" --heartbeat-datagrams
    fi
done
