import BeaconCore
import BenchmarkSupport

/// Measurements behind `beacon bench diff`: diff, encode, decode + apply of assignment sets, and
/// the bytes an INCREMENTAL message takes against the whole set.
struct DiffBenchmark {
    let repeats: Int
    let payloadBytes: Int
    let countAllocations: Bool

    /// Two sets of `size` entries where `changedFraction` of them differ: 60 % of the changes
    /// update an entry (new version and payload), 20 % remove one and 20 % add one, like task
    /// churn on a node. Ids are sparse, as interned ids of a long-running cluster are.
    func sets(size: Int, changedFraction: Double) throws -> (old: AssignmentSet, new: AssignmentSet) {
        var generator = SplitMix64(seed: UInt64(size) &* 31 &+ UInt64(changedFraction * 1e6))
        func payload(_ id: UInt64, _ version: UInt64) -> [UInt8] {
            var bytes = SplitMix64(seed: id &* 1_000_003 &+ version)
            return (0..<payloadBytes).map { _ in UInt8(truncatingIfNeeded: bytes.next()) }
        }
        var ids = Set<UInt64>()
        while ids.count < size { ids.insert(generator.next(upperBound: UInt64(size) * 8)) }
        let ordered = ids.sorted()
        var old = AssignmentSet.Builder(minimumCapacity: size)
        for id in ordered { try old.add(AssignmentKey(.task, id: id), version: 1, payload: payload(id, 1)) }
        let changes = max(1, Int((Double(size) * changedFraction).rounded()))
        var picked = Set<UInt64>()
        while picked.count < changes { picked.insert(ordered[Int(generator.next(upperBound: UInt64(size)))]) }
        let touched = picked.sorted()
        var updated = Set<UInt64>()
        var removed = Set<UInt64>()
        for (index, id) in touched.enumerated() {
            switch index % 5 {
            case 3: removed.insert(id)
            case 4: break  // stands for one added entry, below
            default: updated.insert(id)
            }
        }
        var new = AssignmentSet.Builder(minimumCapacity: size + changes)
        for id in ordered where !removed.contains(id) {
            let version: UInt64 = updated.contains(id) ? 2 : 1
            try new.add(AssignmentKey(.task, id: id), version: version, payload: payload(id, version))
        }
        var added = 0
        for (index, _) in touched.enumerated() where index % 5 == 4 {
            let id = UInt64(size) * 8 + UInt64(added)
            try new.add(AssignmentKey(.task, id: id), version: 1, payload: payload(id, 1))
            added += 1
        }
        return (try old.build(), try new.build())
    }

    struct Figures {
        var changes: Int
        var diffNanoseconds: Double
        var diffAllocations: Double?
        var encodeNanosecondsPerChange: Double
        var decodeApplyNanosecondsPerChange: Double
        var incrementalBytes: Int
        var completeBytes: Int
    }

    func measure(size: Int, changedFraction: Double) throws -> Figures {
        let (old, new) = try sets(size: size, changedFraction: changedFraction)
        let encoder = try AssignmentEncoder()
        var diff = AssignmentDiff(from: old, to: new)
        let changes = diff.count
        let diffNs = Stopwatch.median(repeats: repeats) {
            diff.recompute(from: old, to: new)
            blackHole(diff.count)
        }
        let diffAllocations =
            countAllocations
            ? Double(AllocationCounter.count { diff.recompute(from: old, to: new) }) : nil

        var encoded: [AssignmentMessage] = []
        let encodeNs = try Stopwatch.median(repeats: repeats) {
            encoded = try encoder.encode(diff, as: .incremental, after: 1)
        }
        let complete = try encoder.encode(AssignmentDiff(from: AssignmentSet(), to: old), as: .complete, after: 0)

        // Forward and backward diffs alternate on one applier so each apply starts from the set
        // its message was made for, with no copy of the applier in the timed region. A sample
        // applies enough of them, encoded beforehand, to hold 1 000 changes or more: reading the
        // clock costs about 50 ns on this VM, half of what a one-change message takes to apply.
        let forward = AssignmentDiff(from: old, to: new)
        let backward = AssignmentDiff(from: new, to: old)
        let pairsPerSample = (Self.changesPerSample + 2 * changes - 1) / (2 * changes)
        var applier = AssignmentApplier()
        for message in complete { try applier.apply(bytes: message.bytes) }
        var samples: [Double] = []
        for _ in 0..<repeats {
            var messages: [[UInt8]] = []
            var last = applier.lastApplied ?? 0
            for _ in 0..<pairsPerSample {
                for diff in [forward, backward] {
                    let parts = try encoder.encode(diff, as: .incremental, after: last)
                    messages += parts.map(\.bytes)
                    last = parts.last?.resultsIn ?? last
                }
            }
            samples.append(
                try Stopwatch.nanoseconds {
                    for message in messages { try applier.apply(bytes: message) }
                } / Double(2 * pairsPerSample))
        }
        samples.sort()
        return Figures(
            changes: changes, diffNanoseconds: diffNs, diffAllocations: diffAllocations,
            encodeNanosecondsPerChange: encodeNs / Double(changes),
            decodeApplyNanosecondsPerChange: samples[samples.count / 2] / Double(changes),
            incrementalBytes: encoded.reduce(0) { $0 + $1.bytes.count },
            completeBytes: complete.reduce(0) { $0 + $1.bytes.count })
    }

    /// The fewest changes one timed decode + apply sample holds.
    static let changesPerSample = 1_000

    struct CompleteFigures {
        var messages: Int
        var bytes: Int
        var largestMessage: Int
        var encodeMilliseconds: Double
        var decodeMilliseconds: Double
        var applyMilliseconds: Double
    }

    /// A whole set sent as COMPLETE under the default 1 MiB budget: diff from empty and encode,
    /// then decode (validate) every part, then apply them to an empty receiver.
    func complete(size: Int) throws -> CompleteFigures {
        let (set, _) = try sets(size: size, changedFraction: 0)
        let encoder = try AssignmentEncoder()
        var messages: [AssignmentMessage] = []
        let encodeNs = try Stopwatch.median(repeats: repeats) {
            messages = try encoder.encode(AssignmentDiff(from: AssignmentSet(), to: set), as: .complete, after: 0)
        }
        let decodeNs = try Stopwatch.median(repeats: repeats) {
            for message in messages { blackHole(try AssignmentMessage(decoding: message.bytes).changeCount) }
        }
        let applyNs = try Stopwatch.median(repeats: repeats) {
            var applier = AssignmentApplier()
            for message in messages { try applier.apply(bytes: message.bytes) }
            blackHole(applier.table.count)
        }
        return CompleteFigures(
            messages: messages.count, bytes: messages.reduce(0) { $0 + $1.bytes.count },
            largestMessage: messages.map(\.bytes.count).max() ?? 0,
            encodeMilliseconds: encodeNs / 1e6, decodeMilliseconds: decodeNs / 1e6, applyMilliseconds: applyNs / 1e6)
    }
}
