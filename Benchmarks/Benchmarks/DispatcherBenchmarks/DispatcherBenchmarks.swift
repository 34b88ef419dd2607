import BeaconCore
import BeaconDispatcher
import Benchmark
import Dispatch
import Logging
import Synchronization

/// The dispatcher's heartbeat call (session check, period draw, wheel beat) at 10 000 and
/// 1 000 000 registered nodes in random order, one call per heartbeat and in batches of 100 (a
/// relay's message), against a SwarmKit-shaped baseline measured in the same run: a locked
/// dictionary from node id to its session and deadline. Allocations per heartbeat, single and
/// batched, are gated at zero. Run from `Benchmarks/`:
/// `swift package benchmark --target DispatcherBenchmarks`.
let benchmarks: @Sendable () -> Void = {
    let timing = Benchmark.Configuration(metrics: [.wallClock, .throughput], maxDuration: .seconds(2), maxIterations: 30)
    let zeroAllocations = Benchmark.Configuration(
        metrics: [.mallocCountTotal], maxDuration: .milliseconds(500), maxIterations: 10,
        thresholds: [.mallocCountTotal: .init(absolute: [.p0: 0, .p50: 0, .p100: 0])])

    for nodes in [10_000, 1_000_000] {
        Benchmark(
            "Heartbeat_\(nodes)", configuration: timing,
            closure: { benchmark in
                let fleet = Fleet.current!
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { try fleet.beatAll() }
            },
            setup: { Fleet.current = try await Fleet.make(nodes: nodes) },
            teardown: { await Fleet.current?.stop() })
        Benchmark(
            "HeartbeatBatch_\(nodes)", configuration: timing,
            closure: { benchmark in
                let fleet = Fleet.current!
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { try fleet.beatAllInBatches() }
            },
            setup: { Fleet.current = try await Fleet.make(nodes: nodes) },
            teardown: { await Fleet.current?.stop() })
        Benchmark(
            "HeartbeatLockedMapBaseline_\(nodes)", configuration: timing,
            closure: { benchmark in
                let baseline = LockedMapBaseline.current!
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { baseline.beatAll() }
            },
            setup: { LockedMapBaseline.current = LockedMapBaseline(nodes: nodes) },
            teardown: { LockedMapBaseline.current = nil })
    }
    Benchmark(
        "HeartbeatAllocations_1000000", configuration: zeroAllocations,
        closure: { benchmark in
            let fleet = Fleet.current!
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                try fleet.beatAll()
                try fleet.beatAllInBatches()
            }
        },
        setup: { Fleet.current = try await Fleet.make(nodes: 1_000_000) },
        teardown: { await Fleet.current?.stop() })
}

private let beatsPerIteration = 100_000
/// Heartbeats per batch in the batched runs: what a relay might forward in one message.
private let beatsPerBatch = 100

/// Node `index`'s id, "n" and the index in hex: at most 15 bytes, which a Swift string keeps
/// inline. With longer ids (SwarmKit's are 25 bytes) each `NodeID` owns a heap string, and copying
/// it out of the order array takes a reference on one of a million string buffers, cold in cache:
/// a miss a server does not have, since it decodes each id just before the call and so touches
/// only a buffer it has just written (it pays that decoding instead, outside this path). Measured
/// on 2026-12-06, two runs of one build minutes apart: 280 → 190 ns a call with inline ids, and
/// 950 → 620 ns for the baseline, which then also hashes shorter keys.
private func nodeName(_ index: Int) -> String { "n" + String(index, radix: 16) }

/// A running dispatcher with `nodes` registered nodes and a random heartbeat order.
final class Fleet: @unchecked Sendable {
    let dispatcher: Dispatcher<MonotonicClock>
    let running: Task<Void, any Error>
    let order: [(NodeID, SessionID)]
    /// The same heartbeats as `order`, cut into batches.
    let batches: [[NodeHeartbeat]]

    private init(dispatcher: Dispatcher<MonotonicClock>, running: Task<Void, any Error>, order: [(NodeID, SessionID)]) {
        self.dispatcher = dispatcher
        self.running = running
        self.order = order
        batches = stride(from: 0, to: order.count, by: beatsPerBatch).map { start in
            order[start..<min(start + beatsPerBatch, order.count)].map { NodeHeartbeat(nodeID: $0.0, session: $0.1) }
        }
    }

    static func make(nodes: Int) async throws -> Fleet {
        var configuration = DispatcherConfiguration()
        configuration.maximumNodes = nodes
        // Long enough that no node expires while a million register; the beat costs the same.
        configuration.heartbeatPeriod = .seconds(600)
        configuration.heartbeatJitter = .seconds(60)
        // Heartbeats alone give the dispatcher's loop nothing to do; without metrics reports it
        // sleeps through the measurement, and the malloc count is the heartbeats' alone.
        configuration.metricsInterval = .seconds(3600)
        var logger = Logger(label: "beacon.dispatcher.benchmark")
        logger.logLevel = .warning
        let store = InMemoryDispatcherStore()
        let ids = try (0..<nodes).map { try NodeID(nodeName($0)) }
        store.createNodes(ids)
        let dispatcher = try Dispatcher(configuration: configuration, store: store, logger: logger)
        let running = Task { try await dispatcher.run() }
        var sessions = [SessionID?](repeating: nil, count: nodes)
        try await withThrowingTaskGroup(of: (Int, SessionID).self) { group in
            var next = 0
            func launch() {
                let index = next
                next += 1
                group.addTask {
                    while true {
                        do {
                            return (index, try await dispatcher.register(nodeID: ids[index], description: nil).sessionID)
                        } catch DispatcherError.stopped {
                            try await Task.sleep(for: .milliseconds(5))  // not leading yet
                        }
                    }
                }
            }
            for _ in 0..<min(nodes, 20_000) { launch() }
            while let (index, session) = try await group.next() {
                sessions[index] = session
                if next < nodes { launch() }
            }
        }
        var generator = SplitMix64(seed: 11)
        let order = (0..<beatsPerIteration).map { _ in
            let index = Int(generator.next(upperBound: UInt64(nodes)))
            return (ids[index], sessions[index]!)
        }
        return Fleet(dispatcher: dispatcher, running: running, order: order)
    }

    /// The fleet the running benchmark uses, made by its setup hook.
    nonisolated(unsafe) static var current: Fleet?

    /// One heartbeat per entry of the random order.
    /// Throws on the first refused heartbeat, so a broken setup fails the benchmark instead of
    /// timing the error path.
    func beatAll() throws {
        for index in order.indices {
            blackHole(try dispatcher.heartbeat(nodeID: order[index].0, session: order[index].1))
        }
    }

    /// The same heartbeats through the batch call, `beatsPerBatch` at a time.
    func beatAllInBatches() throws {
        for batch in batches {
            let refused = dispatcher.heartbeat(batch: batch) { _, result in blackHole(result) }
            guard refused == 0 else { throw DispatcherError.sessionInvalid }
        }
    }

    func stop() async {
        dispatcher.stop()
        _ = await running.result
        Fleet.current = nil
    }
}

/// SwarmKit's node store, reduced to its heartbeat: a locked map lookup by node id, a session
/// string comparison, a period draw and a deadline update.
final class LockedMapBaseline: @unchecked Sendable {
    // Safety: `entries` and `random` are touched only under `lock`.
    struct Entry {
        var session: String
        var deadline: UInt64
    }
    nonisolated(unsafe) static var current: LockedMapBaseline?
    private let lock = Mutex(())
    private var entries: [String: Entry] = [:]
    private var random = SplitMix64(seed: 3)
    let order: [(String, String)]

    init(nodes: Int) {
        let ids = (0..<nodes).map(nodeName)
        for id in ids { entries[id] = Entry(session: "session-of-" + id, deadline: 0) }
        var generator = SplitMix64(seed: 11)
        order = (0..<beatsPerIteration).map { _ in
            let id = ids[Int(generator.next(upperBound: UInt64(nodes)))]
            return (id, "session-of-" + id)
        }
    }

    func heartbeat(_ node: String, _ session: String) -> Duration? {
        lock.withLock { _ in
            guard let entry = entries[node], entry.session == session else { return nil }
            let period = 4_500_000 + random.next(upperBound: UInt64(1_000_000))
            entries[node]!.deadline = MonotonicClock().now.nanoseconds / 1000 + period * 3
            return .microseconds(Int64(period))
        }
    }

    func beatAll() {
        for index in order.indices { blackHole(heartbeat(order[index].0, order[index].1)) }
    }
}
