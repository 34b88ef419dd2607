import BeaconCore
import Benchmark

/// Task-diff suites: a 10 000-entry diff with 1 % changed (time, and allocations gated at zero
/// once the diff's storage is reused), INCREMENTAL encode and decode + apply, and a 100 000-entry
/// COMPLETE set split under the 1 MiB budget. Run from `Benchmarks/`:
/// `swift package benchmark --target TaskDiffBenchmarks`. The timed suites repeat their
/// operation `repeatsPerSample` times per sample, because a sample of one diff read about 400 µs
/// here whatever the operation: a fixed cost per sample, not the diff's.
let benchmarks: @Sendable () -> Void = {
    /// `size` entries with 128-byte payloads, and a copy where `changed` of them have a new
    /// version and payload.
    func sets(size: Int, changed: Int) throws -> (AssignmentSet, AssignmentSet) {
        var old = AssignmentSet.Builder(minimumCapacity: size)
        var new = AssignmentSet.Builder(minimumCapacity: size)
        let stride = max(1, size / max(1, changed))
        for index in 0..<size {
            let key = try AssignmentKey(.task, id: UInt64(index * 7))
            let payload = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 128)
            try old.add(key, version: 1, payload: payload)
            let bumped = changed > 0 && index % stride == 0
            try new.add(key, version: bumped ? 2 : 1, payload: bumped ? payload.reversed() + [1] : payload)
        }
        return (try old.build(), try new.build())
    }

    let repeatsPerSample = 100
    let timing = Benchmark.Configuration(metrics: [.wallClock, .throughput], maxDuration: .seconds(1), maxIterations: 10_000)
    let zeroAllocations = Benchmark.Configuration(
        metrics: [.mallocCountTotal], maxDuration: .milliseconds(300), maxIterations: 200,
        thresholds: [.mallocCountTotal: .init(absolute: [.p0: 0, .p50: 0, .p100: 0])])

    Benchmark("Diff_10000_1pct_x100", configuration: timing) { benchmark in
        let (old, new) = try sets(size: 10_000, changed: 100)
        var diff = AssignmentDiff(from: old, to: new)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for _ in 0..<repeatsPerSample { diff.recompute(from: old, to: new) }
            blackHole(diff.count)
        }
    }

    Benchmark("DiffAllocations_10000_1pct", configuration: zeroAllocations) { benchmark in
        let (old, new) = try sets(size: 10_000, changed: 100)
        var diff = AssignmentDiff(from: old, to: new)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            diff.recompute(from: old, to: new)
        }
        blackHole(diff.count)
    }

    Benchmark("Encode_10000_1pct_x100", configuration: timing) { benchmark in
        let (old, new) = try sets(size: 10_000, changed: 100)
        let diff = AssignmentDiff(from: old, to: new)
        let encoder = try AssignmentEncoder()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for _ in 0..<repeatsPerSample { blackHole(try encoder.encode(diff, as: .incremental, after: 1)) }
        }
    }

    Benchmark("DecodeAllocations_10000_1pct", configuration: zeroAllocations) { benchmark in
        let (old, new) = try sets(size: 10_000, changed: 100)
        let message = try AssignmentEncoder().encode(AssignmentDiff(from: old, to: new), as: .incremental, after: 1)[0]
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try AssignmentMessage(decoding: message.bytes).changeCount)
        }
    }

    Benchmark("DecodeApply_10000_1pct_x100", configuration: timing) { benchmark in
        let (old, new) = try sets(size: 10_000, changed: 100)
        let encoder = try AssignmentEncoder()
        let forward = AssignmentDiff(from: old, to: new)
        let backward = AssignmentDiff(from: new, to: old)
        var applier = AssignmentApplier()
        for message in try encoder.encode(AssignmentDiff(from: AssignmentSet(), to: old), as: .complete, after: 0) {
            try applier.apply(message)
        }
        // 50 forward and 50 backward messages of 100 changes each.
        var chain: [[UInt8]] = []
        var sequence = applier.lastApplied ?? 0
        for _ in 0..<benchmark.scaledIterations.count * repeatsPerSample / 2 {
            chain.append(try encoder.encode(forward, as: .incremental, after: sequence)[0].bytes)
            chain.append(try encoder.encode(backward, as: .incremental, after: sequence + 1)[0].bytes)
            sequence += 2
        }
        benchmark.startMeasurement()
        for message in chain { try applier.apply(bytes: message) }
    }

    Benchmark("Complete_100000_split_encode_decode", configuration: .init(metrics: [.wallClock], maxDuration: .seconds(2), maxIterations: 20)) { benchmark in
        let (set, _) = try sets(size: 100_000, changed: 0)
        let encoder = try AssignmentEncoder()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let messages = try encoder.encode(AssignmentDiff(from: AssignmentSet(), to: set), as: .complete, after: 0)
            for message in messages { blackHole(try AssignmentMessage(decoding: message.bytes).changeCount) }
        }
    }
}
