import BeaconCore
import Benchmark
import Dispatch

/// Heartbeat-wheel suites: beat cost at 10 000 / 100 000 / 1 000 000 nodes in random order on one
/// and two threads, the same beats in batches of 64, allocations per beat and per expiry (gated at zero), register + remove, the
/// sweep of due slots (a mass expiry of a million nodes in virtual time), and memory per node.
/// Run from `Benchmarks/`: `swift package benchmark --target HeartbeatBenchmarks`.
let benchmarks: @Sendable () -> Void = {
    let sizes = [10_000, 100_000, 1_000_000]
    let ttl = try! HeartbeatTTL(.seconds(30))
    let beatsPerIteration = 100_000

    /// A wheel with `nodes` registered nodes, the beat clock published, and per-thread random
    /// beat sequences of `beatsPerIteration` handles in total.
    func prepared(_ nodes: Int, threads: Int) throws -> (HeartbeatWheel<MonotonicClock>, [[HeartbeatHandle]]) {
        let wheel = try HeartbeatWheel(configuration: .init(maximumTTL: .seconds(60), capacity: nodes), clock: MonotonicClock())
        let handles = try (0..<nodes).map { _ in try wheel.register(ttl: ttl) }
        wheel.publishBeatClock(validUntil: MonotonicClock().now)
        var generator = SplitMix64(seed: 9)
        let sequences = (0..<threads).map { thread in
            let share = handles[(thread * nodes / threads)..<((thread + 1) * nodes / threads)]
            return (0..<beatsPerIteration / threads).map { _ in
                share[share.startIndex + Int(generator.next(upperBound: UInt64(share.count)))]
            }
        }
        return (wheel, sequences)
    }

    let timing = Benchmark.Configuration(
        metrics: [.wallClock, .throughput], maxDuration: .seconds(1), maxIterations: 200)
    let zeroAllocations = Benchmark.Configuration(
        metrics: [.mallocCountTotal], maxDuration: .milliseconds(300), maxIterations: 50,
        thresholds: [.mallocCountTotal: .init(absolute: [.p0: 0, .p50: 0, .p100: 0])])

    // The same beats, 64 to a call: what a relay forwarding many nodes' beats does.
    func batched(_ wheel: HeartbeatWheel<MonotonicClock>, _ sequence: [HeartbeatHandle]) -> Int {
        sequence.withUnsafeBufferPointer { handles in
            stride(from: 0, to: handles.count, by: 64).reduce(0) { refused, start in
                let batch = UnsafeBufferPointer(rebasing: handles[start..<min(start + 64, handles.count)])
                return refused + wheel.beat(batch, ttl: ttl)
            }
        }
    }

    for n in sizes {
        for threads in [1, 2] {
            Benchmark("Beat_\(n)_\(threads)threads", configuration: timing) { benchmark in
                let (wheel, sequences) = try prepared(n, threads: threads)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    DispatchQueue.concurrentPerform(iterations: threads) { thread in
                        for handle in sequences[thread] { try? wheel.beat(handle, ttl: ttl) }
                    }
                }
            }
        }
        Benchmark("BeatAllocations_\(n)", configuration: zeroAllocations) { benchmark in
            let (wheel, sequences) = try prepared(n, threads: 1)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for handle in sequences[0] { try wheel.beat(handle, ttl: ttl) }
            }
        }
        Benchmark("BatchedBeat_\(n)", configuration: timing) { benchmark in
            let (wheel, sequences) = try prepared(n, threads: 1)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(batched(wheel, sequences[0]))
            }
        }
        Benchmark("BatchedBeatAllocations_\(n)", configuration: zeroAllocations) { benchmark in
            let (wheel, sequences) = try prepared(n, threads: 1)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(batched(wheel, sequences[0]))
            }
        }
    }

    Benchmark("RegisterRemoveRecycle_1000", configuration: timing) { benchmark in
        let clock = ManualClock()
        let wheel = try HeartbeatWheel(configuration: .init(maximumTTL: .seconds(60), capacity: 1000), clock: clock)
        let short = try HeartbeatTTL(.milliseconds(5))
        var handles: [HeartbeatHandle] = []
        handles.reserveCapacity(1000)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for _ in 0..<1000 { handles.append(try wheel.register(ttl: short)) }
            for handle in handles { try wheel.remove(handle) }
            handles.removeAll(keepingCapacity: true)
            try clock.advance(by: .milliseconds(10))
            try wheel.advance(to: clock.now) { _ in }
        }
    }

    /// A million deadlines spread over one second of 1 ms slots, swept slot by slot until all have
    /// expired (the second round is the one measured, once the batch buffer has its size).
    func massExpiry(_ name: String, configuration: Benchmark.Configuration) {
        Benchmark(name, configuration: configuration) { benchmark in
            let clock = ManualClock()
            let wheel = try HeartbeatWheel(
                configuration: .init(maximumTTL: .seconds(60), capacity: 1_000_000, stallThreshold: nil), clock: clock)
            let spread = try (0..<1000).map { try HeartbeatTTL(.milliseconds(1000 + $0)) }
            var expired = 0
            func round(measured: Bool) throws {
                for i in 0..<1_000_000 { _ = try wheel.register(ttl: spread[i % 1000]) }
                try wheel.advance(to: clock.now) { _ in }
                if measured { benchmark.startMeasurement() }
                for _ in 0..<2002 {
                    try clock.advance(by: .milliseconds(1))
                    try wheel.advance(to: clock.now) { expired += $0.handles.count }
                }
                if measured { benchmark.stopMeasurement() }
            }
            try round(measured: false)
            try round(measured: true)
            blackHole(expired)
        }
    }
    massExpiry("MassExpiry_1M", configuration: .init(metrics: [.wallClock], maxIterations: 3))
    massExpiry("MassExpiryAllocations_1M", configuration: .init(
        metrics: [.mallocCountTotal], maxIterations: 1,
        thresholds: [.mallocCountTotal: .init(absolute: [.p0: 0, .p50: 0, .p100: 0])]))

    Benchmark("Memory_bytesPerNode", configuration: .init(
        metrics: [.custom("bytesPerNode", polarity: .prefersSmaller, useScalingFactor: false)], maxIterations: 1)
    ) { benchmark in
        benchmark.measurement(
            .custom("bytesPerNode", polarity: .prefersSmaller, useScalingFactor: false),
            HeartbeatWheel<MonotonicClock>.bytesPerNode)
    }
}
