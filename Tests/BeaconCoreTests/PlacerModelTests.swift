import BeaconSystemShims
import Foundation
import Testing

@testable import BeaconCore

/// Each placer against a simple, obviously correct model of its algorithm.
@Suite struct PlacerModelTests {
    @Test(arguments: [1, 2, 5, 64])
    func rendezvousPicksTheHighestScore(count: Int) throws {
        let placer = try RendezvousPlacer(members: members(count))
        let ids = placer.members.map { XXHash64.hash($0.name) }
        for hash in hashes(2000) {
            let scores = ids.map { mix(hash, $0) }
            let best = scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }!
            #expect(try placer.memberIndex(forHash: hash) == best)
        }
    }

    @Test func weightedRendezvousSharesFollowWeights() throws {
        let weights = [1.0, 2, 3, 4]
        let placer = try RendezvousPlacer(
            members: weights.enumerated().map { PlacementMember("w\($0.offset)", weight: $0.element) })
        var counts = [0, 0, 0, 0]
        for hash in hashes(200_000) { counts[try placer.memberIndex(forHash: hash)] += 1 }
        for i in 0..<4 {
            let share = Double(counts[i]) / 200_000
            #expect(abs(share - weights[i] / 10) < 0.01, "member \(i) share \(share)")
        }
    }

    @Test func naturalLogarithmIsAccurate() {
        var stream = KeyStream(seed: 5)
        for _ in 0..<10_000 {
            let u = (Double(stream.next() >> 11) + 0.5) * 0x1p-53
            let reference = Foundation.log(u)
            #expect(abs(NaturalLogarithm.of(u) - reference) <= 2 * reference.ulp, "ln \(u)")
        }
        #expect(NaturalLogarithm.of(1) == 0)
        #expect(abs(NaturalLogarithm.of(2) - 0.693_147_180_559_945_3) < 1e-16)
    }

    /// Random hashes, and hashes on and beside every point and its bucket's edges; a ring of one
    /// point has a single bucket, indexed by no bits.
    @Test(arguments: [(1, 1), (1, 40), (3, 40), (50, 40), (200, 160)])
    func ringLookupMatchesTheSortedPoints(count: Int, virtualNodes: Int) throws {
        let placer = try RingPlacer(members: members(count), virtualNodes: virtualNodes)
        let points = placer.positions
        // A bucket's first and last hash, from its prefix; 0 and UInt64.max for the one bucket.
        let withinBucket = placer.indexShift == 64 ? UInt64.max : (1 << placer.indexShift) - 1
        let beside = points.flatMap { [$0 &- 1, $0, $0 &+ 1, $0 & ~withinBucket, $0 | withinBucket] }
        for hash in hashes(3000) + beside + [0, .max] {
            // The first point at or after the hash, by bisection: a scan of 32 000 points for each
            // of 160 000 hashes would take minutes in a debug build.
            var (low, high) = (0, points.count)
            while low < high {
                let middle = (low + high) / 2
                if points[middle] < hash { low = middle + 1 } else { high = middle }
            }
            let successor = low == points.count ? 0 : low
            #expect(try placer.memberIndex(forHash: hash) == Int(placer.owners[successor]), "hash \(hash)")
        }
    }

    @Test func weightedRingGivesEveryMemberAPoint() throws {
        let placer = try RingPlacer(
            members: [PlacementMember("tiny", weight: 0.0001), PlacementMember("big", weight: 100)], virtualNodes: 10)
        #expect(placer.owners.contains(0))
        #expect(placer.pointCount == 1 + 20)
    }

    @Test(arguments: [1, 2, 7, 100])
    func maglevMatchesThePapersPopulation(count: Int) throws {
        let placer = try MaglevPlacer(members: members(count))
        let size = placer.tableSize
        #expect(MaglevPlacer.isPrime(size) && size >= 100 * count)
        // The paper's population, with explicit permutation[i][j] = (offset + j·skip) mod M.
        let ids = placer.members.map { XXHash64.hash($0.name) }
        let offsets = ids.map { Int(mix($0, 0x6F66_6673_6574) % UInt64(size)) }
        let skips = ids.map { Int(mix($0, 0x736B_6970) % UInt64(size - 1)) + 1 }
        var next = [Int](repeating: 0, count: count)
        var entry = [Int](repeating: -1, count: size)
        var filled = 0
        outer: while true {
            for i in 0..<count {
                var c = (offsets[i] + next[i] * skips[i]) % size
                while entry[c] >= 0 {
                    next[i] += 1
                    c = (offsets[i] + next[i] * skips[i]) % size
                }
                entry[c] = i
                next[i] += 1
                filled += 1
                if filled == size { break outer }
            }
        }
        #expect((0..<size).allSatisfy { placer.lookup[$0] == entry[$0] })
        var counts = [Int](repeating: 0, count: count)
        for e in entry { counts[e] += 1 }
        #expect(counts.max()! - counts.min()! <= 1)
    }

    /// Each CPU's counter hands out members in turn, so however the calls spread over CPUs, the
    /// members' counts differ by at most the number of counters; derived placers share them.
    @Test func roundRobinBalancesWithinItsCountersAndKeepsItsTurnAcrossChanges() throws {
        let placer = try RoundRobinPlacer(members: members(3))
        let counters = placer.tableBytes / 128
        var counts = [0, 0, 0]
        for _ in 0..<3000 { counts[try placer.memberIndex(forHash: 0)] += 1 }
        #expect(counts.max()! - counts.min()! <= counters)
        #expect(placer.turnsTaken == 3000)
        let grown = try placer.adding(PlacementMember("m3"))
        #expect(grown.turnsTaken == 3000)
        _ = try grown.memberIndex(forHash: 0)
        #expect(placer.turnsTaken == 3001)
    }

    /// Each counter on its own hands out strict turns, and a CPU number past the last counter
    /// wraps onto one of them rather than past the buffer.
    @Test func eachRoundRobinCounterTakesStrictTurns() throws {
        let turn = try RoundRobinPlacer(members: members(3)).turn
        let counters = turn.counterCount
        #expect(counters >= 1 && counters & (counters - 1) == 0)
        #expect(counters >= Int(beacon_cpu_count()))
        let first = turn.take(onCPU: 0)
        for step in 1...6 { #expect(turn.take(onCPU: 0) == first + UInt64(step)) }
        #expect(turn.take(onCPU: UInt32(counters)) == first + 7)
        let last = turn.take(onCPU: UInt32(counters - 1))
        #expect(turn.take(onCPU: UInt32(2 * counters - 1)) == last + 1)
        #expect(turn.take(onCPU: .max) == last + 2)
    }

    @Test func roundRobinCountsEveryTurnTakenFromSeveralThreads() async throws {
        let placer = try RoundRobinPlacer(members: members(5))
        let counts = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var counts = [Int](repeating: 0, count: 5)
                    for _ in 0..<10_000 { counts[try placer.memberIndex(forHash: 0)] += 1 }
                    return counts
                }
            }
            return try await group.reduce(into: [Int](repeating: 0, count: 5)) { total, part in
                for index in total.indices { total[index] += part[index] }
            }
        }
        #expect(placer.turnsTaken == 40_000)
        #expect(counts.max()! - counts.min()! <= placer.tableBytes / 128)
    }

    @Test(arguments: [1, 2, 10, 333])
    func boundedLoadTableBalancesSlotsExactly(count: Int) throws {
        let placer = try BoundedLoadTable(members: members(count))
        let counts = placer.slotsPerMember
        #expect(counts.reduce(0, +) == placer.slotCount)
        #expect(placer.slotCount >= 100 * count)
        let fair = Double(placer.slotCount) / Double(count)
        #expect(counts.allSatisfy { Double($0) >= fair.rounded(.down) && Double($0) <= fair.rounded(.up) })
        for hash in hashes(1000) {
            let slot = Int(hash.multipliedFullWidth(by: UInt64(placer.slotCount)).high)
            #expect(try placer.memberIndex(forHash: hash) == placer.slots[slot])
        }
    }

    @Test func boundedLoadTableBuildIgnoresMemberOrder() throws {
        let forward = try BoundedLoadTable(members: members(40))
        let backward = try BoundedLoadTable(members: members(40).reversed())
        for hash in hashes(5000) {
            #expect(
                forward.members[try forward.memberIndex(forHash: hash)].name
                    == backward.members[try backward.memberIndex(forHash: hash)].name)
        }
    }

    @Test func boundedLoadTableDoublesWithoutMovingKeys() throws {
        var placer = try BoundedLoadTable(members: members(10))
        #expect(placer.slotCount == 1280)
        let keys = hashes(20_000)
        let before = try owners(placer, keys)
        // 12 members fit in 1 280 slots at ≥ 100 each; the 13th doubles the table.
        for i in 10..<13 { placer = try placer.adding(PlacementMember("m\(i)")) }
        #expect(placer.slotCount == 2560)
        let after = try owners(placer, keys)
        for (old, new) in zip(before, after) where old != new {
            #expect(["m10", "m11", "m12"].contains(new))
        }
        #expect(movedFraction(before, after) <= 1.1 * 3 / 13)
    }

    @Test func replicaSetsAreDistinctAndStartWithTheOwner() throws {
        let ring = try RingPlacer(members: members(12))
        let rendezvous = try RendezvousPlacer(members: members(12))
        let table = try BoundedLoadTable(members: members(12))
        let placers: [any ReplicaPlacer] = [ring, rendezvous, table]
        for placer in placers {
            for key in ["a", "b", "user-17", ""] {
                for k in 1...12 {
                    let set = try placer.replicas(for: key, count: k)
                    #expect(Set(set).count == k)
                    #expect(set[0] == (try placer.memberIndex(for: key)))
                    if k > 1 { #expect(Array(set.prefix(k - 1)) == (try placer.replicas(for: key, count: k - 1))) }
                }
            }
        }
        // Rendezvous replicas are the members in descending score order.
        let ids = rendezvous.members.map { XXHash64.hash($0.name) }
        let hash = XXHash64.hash("user-17")
        let byScore = ids.indices.sorted { mix(hash, ids[$0]) > mix(hash, ids[$1]) }
        #expect(try rendezvous.replicas(for: "user-17", count: 5) == Array(byScore.prefix(5)))
    }
}
