import BeaconCore
import BenchmarkSupport
import Foundation

/// Measures every placer on one shared key set.
struct PlacerBenchmark {
    let keys: BenchmarkKeys
    let repeats: Int
    let hotKeyCount = 1024
    let countAllocations: Bool
    let parallel: Bool

    /// Keys an O(N)-per-lookup placer gets at `members`: enough for stable figures without
    /// spending minutes on rendezvous at 10 000 members.
    func keyBudget(members: Int, linear: Bool) -> Int {
        linear ? min(keys.count, max(20_000, 200_000_000 / members)) : keys.count
    }

    // MARK: Static placers

    func measure<P: Placer>(
        _ name: String,
        members count: Int,
        linear: Bool = false,
        keyConsistent: Bool = true,
        leaver: (([PlacementMember]) -> String)? = nil,
        replicas: ((P, UnsafeMutableBufferPointer<Int>, UInt64) throws -> Void)? = nil,
        build: ([PlacementMember]) throws -> P
    ) throws -> PlacerResult {
        let group = (0..<count).map { PlacementMember("node-\($0)") }
        let keyCount = keyBudget(members: count, linear: linear)
        let buildNs = try Stopwatch.median(repeats: 3) { blackHole(try build(group)) }
        let placer = try build(group)

        var sink = 0
        let cold = try Stopwatch.median(repeats: repeats) {
            try keys.forEach(in: 0..<keyCount) { sink &+= try placer.memberIndex(for: $0) }
        }
        let hotRounds = max(1, keyCount / hotKeyCount)
        let hot = try Stopwatch.median(repeats: repeats) {
            for _ in 0..<hotRounds {
                try keys.forEach(in: 0..<hotKeyCount) { sink &+= try placer.memberIndex(for: $0) }
            }
        }
        let allocations =
            countAllocations
            ? try AllocationCounter.count {
                try keys.forEach(in: 0..<min(keyCount, 100_000)) { sink &+= try placer.memberIndex(for: $0) }
            } : 0

        var owners = [Int32](repeating: 0, count: keyCount)
        var counts = [Int](repeating: 0, count: count)
        var i = 0
        try keys.forEach(in: 0..<keyCount) {
            let owner = try placer.memberIndex(for: $0)
            owners[i] = Int32(owner)
            counts[owner] += 1
            i += 1
        }
        let balance = LoadStatistics(counts)

        let newcomer = PlacementMember("node-new")
        let updateNs = try Stopwatch.median(repeats: 3) { blackHole(try placer.adding(newcomer)) }
        let joined = try placer.adding(newcomer)
        let left = try placer.removing(leaver?(group) ?? group[count / 2].name)
        let movedOnJoin = try moved(from: placer, owners: owners, to: joined, keyCount: keyCount)
        let movedOnLeave = try moved(from: placer, owners: owners, to: left, keyCount: keyCount)

        var replicaNs: Double?
        if let replicas, count >= 3 {
            let hashes = (0..<hotKeyCount).map { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }
            let rounds = max(1, min(keyCount, 200_000) / hotKeyCount)
            replicaNs = try withUnsafeTemporaryAllocation(of: Int.self, capacity: 3) { buffer in
                try Stopwatch.median(repeats: repeats) {
                    for _ in 0..<rounds {
                        for hash in hashes {
                            try replicas(placer, buffer, hash)
                            sink &+= buffer[0]
                        }
                    }
                } / Double(rounds * hotKeyCount)
            }
        }
        let speedup = parallel ? try parallelSpeedup(placer, keyCount: min(keyCount, 500_000)) : nil
        blackHole(sink)
        return PlacerResult(
            name: name, members: count, keys: keyCount,
            nsPerLookupCold: cold / Double(keyCount),
            nsPerLookupHot: hot / Double(hotRounds * hotKeyCount),
            allocsPerLookup: Double(allocations) / Double(min(keyCount, 100_000)),
            maxOverAvg: balance.maxOverAvg, stddevOverAvg: balance.stddevOverAvg,
            movedOnJoin: keyConsistent ? movedOnJoin : nil, movedOnLeave: keyConsistent ? movedOnLeave : nil,
            idealMoved: 1 / Double(count), idealMovedOnJoin: 1 / Double(count + 1),
            tableBytes: placer.tableBytes, buildMicros: buildNs / 1000, updateMicros: updateNs / 1000,
            nsPerReplicaSet3: replicaNs, parallelSpeedup: speedup, sortedLoads: balance.sorted)
    }

    /// The fraction of keys whose owner (by name) differs in `after`.
    func moved<P: Placer>(from before: P, owners: [Int32], to after: P, keyCount: Int) throws -> Double {
        var ids: [String: Int] = [:]
        for (i, m) in before.members.enumerated() { ids[m.name] = i }
        let remap = after.members.map { ids[$0.name] ?? -1 }
        var moved = 0
        var i = 0
        try keys.forEach(in: 0..<keyCount) {
            if remap[try after.memberIndex(for: $0)] != Int(owners[i]) { moved += 1 }
            i += 1
        }
        return Double(moved) / Double(keyCount)
    }

    /// Lookups per second on two threads (each through its own ``SharedPlacer`` reader) over one.
    func parallelSpeedup<P: Placer>(_ placer: P, keyCount: Int) throws -> Double {
        let shared = SharedPlacer(placer)
        let keys = self.keys
        // Enough work per thread (about 50 ms) that thread start-up does not count, calibrated on
        // one timed pass so linear-time placers do not run for minutes.
        let onePass = Stopwatch.nanoseconds {
            var reader = shared.makeReader()
            var sink = 0
            keys.forEach(in: 0..<keyCount) { sink &+= (try? reader.memberIndex(forHash: XXHash64.hash($0))) ?? 0 }
            blackHole(sink)
        }
        let passes = max(1, Int(50_000_000 / max(onePass, 1)))
        func run(threads: Int) -> Double {
            let group = DispatchGroup()
            let start = DispatchSemaphore(value: 0)
            let clock = ContinuousClock()
            for _ in 0..<threads {
                group.enter()
                Thread {
                    var reader = shared.makeReader()
                    var sink = 0
                    start.wait()
                    for _ in 0..<passes {
                        keys.forEach(in: 0..<keyCount) {
                            sink &+= (try? reader.memberIndex(forHash: XXHash64.hash($0))) ?? 0
                        }
                    }
                    blackHole(sink)
                    group.leave()
                }.start()
            }
            let begin = clock.now
            for _ in 0..<threads { start.signal() }
            group.wait()
            let elapsed = clock.now - begin
            return Double(threads * keyCount * passes) / Stopwatch.seconds(elapsed)
        }
        var one: [Double] = []
        var two: [Double] = []
        for _ in 0..<max(3, repeats) {
            one.append(run(threads: 1))
            two.append(run(threads: 2))
        }
        return two.sorted()[two.count / 2] / one.sorted()[one.count / 2]
    }

    // MARK: Load-aware placers

    /// Times an acquire + release pair per key, and measures balance with every request held.
    func measureLoadAware<L: LoadAwarePlacer>(
        _ name: String,
        members count: Int,
        tableBytes: Int,
        make: ([PlacementMember]) throws -> L
    ) throws -> PlacerResult {
        let group = (0..<count).map { PlacementMember("node-\($0)") }
        let buildNs = try Stopwatch.median(repeats: 3) { blackHole(try make(group)) }
        // Held in a `let`, as a server holds its placer: a captured `var` is a box, and each call
        // through it retains and releases the placer, two locked operations the pair does not make.
        let placer = try make(group)
        var sink = 0
        let cold = try Stopwatch.median(repeats: repeats) {
            try keys.forEach(in: 0..<keys.count) {
                let lease = try placer.acquire(for: $0)
                sink &+= lease.memberIndex
                try placer.release(lease)
            }
        }
        let hotRounds = max(1, keys.count / hotKeyCount)
        let hot = try Stopwatch.median(repeats: repeats) {
            for _ in 0..<hotRounds {
                try keys.forEach(in: 0..<hotKeyCount) {
                    let lease = try placer.acquire(for: $0)
                    sink &+= lease.memberIndex
                    try placer.release(lease)
                }
            }
        }
        let allocationKeys = min(keys.count, 100_000)
        let allocations =
            countAllocations
            ? try AllocationCounter.count {
                try keys.forEach(in: 0..<allocationKeys) { try placer.release(try placer.acquire(for: $0)) }
            } : 0
        let balanced = try make(group)
        var counts = [Int](repeating: 0, count: count)
        try keys.forEach(in: 0..<keys.count) { counts[try balanced.acquire(for: $0).memberIndex] += 1 }
        let balance = LoadStatistics(counts)
        blackHole(sink)
        return PlacerResult(
            name: name, members: count, keys: keys.count,
            nsPerLookupCold: cold / Double(keys.count),
            nsPerLookupHot: hot / Double(hotRounds * hotKeyCount),
            allocsPerLookup: Double(allocations) / Double(allocationKeys),
            maxOverAvg: balance.maxOverAvg, stddevOverAvg: balance.stddevOverAvg,
            movedOnJoin: nil, movedOnLeave: nil,
            idealMoved: 1 / Double(count), idealMovedOnJoin: 1 / Double(count + 1),
            tableBytes: tableBytes, buildMicros: buildNs / 1000, updateMicros: nil,
            nsPerReplicaSet3: nil, parallelSpeedup: nil, sortedLoads: balance.sorted)
    }

    /// Nanoseconds to hash one key with XXH64 alone: the floor every placer's lookup includes.
    func hashNanoseconds() -> Double {
        var sink: UInt64 = 0
        let ns = Stopwatch.median(repeats: repeats) {
            keys.forEach(in: 0..<keys.count) { sink &+= XXHash64.hash($0) }
        }
        blackHole(sink)
        return ns / Double(keys.count)
    }
}
