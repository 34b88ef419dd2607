import BeaconCore
import BeaconSimulation
import BenchmarkSupport
import Foundation
import Synchronization

/// The measurements behind `beacon bench heartbeat`. Micro-measurements run on the calling
/// thread against a wheel nobody advances (so the wheel's own work does not blur the beat cost);
/// the real-time ones run a `HeartbeatTimer`.
struct HeartbeatBenchmark {
    let repeats: Int
    let countAllocations: Bool
    let ttl = HeartbeatTTL(microseconds: 30_000_000)
    static let maximumTTL = Duration.seconds(120)

    func wheel(capacity: Int) throws -> HeartbeatWheel<MonotonicClock> {
        try HeartbeatWheel(
            configuration: .init(slotWidth: .milliseconds(1), maximumTTL: Self.maximumTTL, capacity: capacity),
            clock: MonotonicClock())
    }

    struct BeatFigures {
        var nanoseconds: Double
        var allocationsPerBeat: Double?
    }

    /// Nanoseconds per beat over `nodes` nodes visited in a random order that changes every pass,
    /// split over `threads` threads (each beating its own share of the nodes), through the cached
    /// clock or the system clock; one `beat` call per node, or one per `batch` nodes.
    func beats(nodes: Int, threads: Int, cachedClock: Bool, batch: Int = 1) throws -> BeatFigures {
        let wheel = try wheel(capacity: nodes)
        var generator = SplitMix64(seed: 42)
        var registered = try (0..<nodes).map { _ in try wheel.register(ttl: ttl) }
        registered.shuffle(using: &generator)
        let handles = registered
        if cachedClock {
            wheel.publishBeatClock(validUntil: MonotonicClock().now)
        }
        let operations = max(4 * nodes, 4_000_000) / threads * threads
        let perThread = operations / threads
        // Each thread beats its own share of the nodes in a random sequence drawn up front, so the
        // measured loop reads the sequence in order and touches records at random, as a server
        // whose connections beat independently would.
        let sequences = (0..<threads).map { thread in
            let share = handles[(thread * nodes / threads)..<((thread + 1) * nodes / threads)]
            return (0..<perThread).map { _ in
                share[share.startIndex + Int(generator.next(upperBound: UInt64(share.count)))]
            }
        }
        let beatSlice: @Sendable (Int) -> Void = { thread in
            if batch == 1 {
                for handle in sequences[thread] {
                    try? wheel.beat(handle, ttl: ttl)
                }
                return
            }
            sequences[thread].withUnsafeBufferPointer { sequence in
                for start in stride(from: 0, to: sequence.count, by: batch) {
                    let end = min(start + batch, sequence.count)
                    wheel.beat(UnsafeBufferPointer(rebasing: sequence[start..<end]), ttl: ttl)
                }
            }
        }
        let run = {
            if threads == 1 {
                beatSlice(0)
            } else {
                DispatchQueue.concurrentPerform(iterations: threads) { beatSlice($0) }
            }
        }
        run()  // warm-up: touches every record once
        let nanos = Stopwatch.median(repeats: repeats, run) / Double(operations)
        var allocations: Double?
        if countAllocations, threads == 1 {
            allocations = Double(AllocationCounter.count { beatSlice(0) }) / Double(perThread)
        }
        blackHole(wheel.isArmed(handles[0]))
        return BeatFigures(nanoseconds: nanos, allocationsPerBeat: allocations)
    }

    /// Nanoseconds to register `nodes` nodes on an empty wheel, then to remove them all.
    func registerAndRemove(nodes: Int) throws -> (register: Double, remove: Double) {
        var registerNs: [Double] = []
        var removeNs: [Double] = []
        for _ in 0..<repeats {
            let wheel = try wheel(capacity: nodes)
            var handles: [HeartbeatHandle] = []
            handles.reserveCapacity(nodes)
            registerNs.append(
                try Stopwatch.nanoseconds { for _ in 0..<nodes { handles.append(try wheel.register(ttl: ttl)) } })
            removeNs.append(try Stopwatch.nanoseconds { for handle in handles { try wheel.remove(handle) } })
        }
        return (registerNs.sorted()[repeats / 2] / Double(nodes), removeNs.sorted()[repeats / 2] / Double(nodes))
    }

    struct SweepFigures {
        var expiryNanoseconds: Double
        var refileNanoseconds: Double
        var allocationsPerExpiry: Double?
    }

    /// The wheel's own work in virtual time: `nodes` deadlines spread over one second of 1 ms
    /// slots, swept slot by slot. Once with every node expiring, once with every node beaten
    /// first (so each is re-filed). The second expiry round is the one measured, so the batch
    /// buffer has reached its size.
    func sweeps(nodes: Int) throws -> SweepFigures {
        let clock = ManualClock()
        let wheel = try HeartbeatWheel(
            configuration: .init(
                slotWidth: .milliseconds(1), maximumTTL: Self.maximumTTL, capacity: nodes, stallThreshold: nil),
            clock: clock)
        let spread = (0..<nodes).map { HeartbeatTTL(microseconds: 1_000_000 + UInt64($0 % 1000) * 1000) }
        var expired = 0
        func register() throws -> [HeartbeatHandle] { try spread.map { try wheel.register(ttl: $0) } }
        func sweepTwoSeconds() throws {
            _ = try wheel.advance(to: clock.now) { _ in }
            for _ in 0..<2002 {
                try clock.advance(by: .milliseconds(1))
                try wheel.advance(to: clock.now) { expired += $0.handles.count }
            }
        }
        _ = try register()
        try sweepTwoSeconds()
        _ = try register()
        _ = try wheel.advance(to: clock.now) { _ in }
        var allocations: Double?
        var expiryNs = 0.0
        if countAllocations {
            var inner = 0.0
            let count = try AllocationCounter.count { inner = try Stopwatch.nanoseconds { try sweepTwoSeconds() } }
            allocations = Double(count) / Double(nodes)
            expiryNs = inner
        } else {
            expiryNs = try Stopwatch.nanoseconds { try sweepTwoSeconds() }
        }
        // Re-filing: every node beaten to a deadline 2 s later, then the first second swept (or
        // looked ahead at).
        let handles = try register()
        _ = try wheel.advance(to: clock.now) { _ in }
        let later = HeartbeatTTL(microseconds: 3_000_000)
        for handle in handles { try wheel.beat(handle, ttl: later) }
        func refiledSoFar() -> Int { wheel.statistics.refiled + wheel.statistics.refiledAhead }
        let refiledBefore = refiledSoFar()
        let refileNs = try Stopwatch.nanoseconds { try sweepTwoSeconds() }
        let refiled = refiledSoFar() - refiledBefore
        blackHole(expired)
        return SweepFigures(
            expiryNanoseconds: expiryNs / Double(nodes), refileNanoseconds: refileNs / Double(max(refiled, 1)),
            allocationsPerExpiry: allocations)
    }

    /// Resident memory added by registering `nodes` nodes on a wheel created beforehand.
    func residentBytesPerNode(nodes: Int) throws -> Double {
        let wheel = try wheel(capacity: nodes)
        let before = ResidentMemory.bytes()
        for _ in 0..<nodes { _ = try wheel.register(ttl: ttl) }
        let after = ResidentMemory.bytes()
        return Double(after - before) / Double(nodes)
    }
}

extension HeartbeatTTL {
    init(microseconds: UInt64) {
        try! self.init(.microseconds(Int64(microseconds)))
    }
}
