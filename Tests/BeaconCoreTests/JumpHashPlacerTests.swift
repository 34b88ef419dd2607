import BeaconSystemShims
import Testing

@testable import BeaconCore

@Suite struct JumpHashPlacerTests {
    /// The paper's loop, written as published, as the reference model.
    func paperJump(_ key: UInt64, _ buckets: Int) -> Int {
        var key = key
        var b: Int64 = -1
        var j: Int64 = 0
        while j < Int64(buckets) {
            b = j
            key = key &* 2_862_933_555_777_941_757 &+ 1
            j = Int64(Double(b + 1) * (Double(Int64(1) << 31) / Double((key >> 33) + 1)))
        }
        return Int(b)
    }

    /// Paper jump over SipHash(Fn key) of Fn ids, n = 1…12, from the seed spec.
    @Test(arguments: [
        ("", [0, 1, 2, 2, 2, 2, 6, 6, 6, 6, 6, 6]),
        ("a", [0, 1, 1, 3, 3, 3, 3, 3, 8, 8, 8, 8]),
        ("fn1", [0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9]),
        ("01D8JQJ0Q7NG8G00GZJ0000001", [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
        ("my-function-id", [0, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3]),
    ])
    func publishedVectors(id: String, expected: [Int]) throws {
        for n in 1...12 {
            let placer = try JumpHashPlacer(members: members(n), keyHasher: .sipHash24(.fnPlacerKey))
            #expect(try placer.memberIndex(for: id) == expected[n - 1], "n = \(n)")
        }
    }

    @Test func floatingPointLoopMatchesThePaper() {
        var stream = KeyStream(seed: 9)
        for buckets in [1, 2, 3, 7, 10, 100, 1000, 65_537, 1 << 22] {
            for _ in 0..<2000 {
                let key = stream.next()
                #expect(JumpHashPlacer.bucket(for: key, buckets: buckets) == paperJump(key, buckets))
            }
        }
        // Keys whose LCG states hit the edge cases (key >> 33 == 0 on the first step).
        for key: UInt64 in [0, 1, .max, 0x1_0000_0000] {
            #expect(JumpHashPlacer.bucket(for: key, buckets: 50) == paperJump(key, 50))
        }
    }

    /// `bucket(for:buckets:)` takes the SSE4.1 loop on this machine's CPU; the loop for CPUs
    /// without it must give the same buckets.
    @Test func loopWithoutSSE41MatchesThePaper() {
        var stream = KeyStream(seed: 11)
        for buckets in [1, 2, 3, 7, 10, 1000, 65_537, 1 << 40, (1 << 52) - 1] {
            for _ in 0..<1000 {
                let key = stream.next()
                #expect(
                    Int(beacon_jump_bucket_portable(key, Int64(buckets)))
                        == JumpHashPlacer.paperBucket(for: key, buckets: buckets))
            }
        }
    }

    /// Up to 2⁵² the floating-point loop agrees with the paper's integer loop (the published loop
    /// itself traps there on its conversion of a jump past `Int64`).
    @Test(arguments: [1 << 32, 1 << 40, (1 << 52) - 1])
    func largeBucketCountsMatchTheIntegerLoop(buckets: Int) {
        var stream = KeyStream(seed: 5)
        for _ in 0..<2000 {
            let key = stream.next()
            #expect(
                JumpHashPlacer.bucket(for: key, buckets: buckets)
                    == JumpHashPlacer.paperBucket(for: key, buckets: buckets))
        }
    }

    /// Bucket counts a `Double` cannot hold exactly take the integer loop: every answer is a bucket,
    /// and a jump past `Int64` ends the loop instead of trapping in the conversion.
    @Test(arguments: [(1 << 52) - 1, 1 << 52, 1 << 60, Int.max])
    func hugeBucketCountsStayInRange(buckets: Int) {
        var stream = KeyStream(seed: 3)
        for _ in 0..<2000 {
            let key = stream.next()
            let bucket = JumpHashPlacer.bucket(for: key, buckets: buckets)
            #expect((0..<buckets).contains(bucket))
            #expect(JumpHashPlacer.bucket(for: key, buckets: buckets) == bucket)
        }
    }

    @Test func joinMovesOnlyKeysToTheNewcomer() throws {
        let keys = hashes(50_000)
        let before = try JumpHashPlacer(members: members(20))
        let after = try before.adding(PlacementMember("new"))
        let (a, b) = (try owners(before, keys), try owners(after, keys))
        for (old, new) in zip(a, b) where old != new {
            #expect(new == "new")
        }
        #expect(movedFraction(a, b) <= 1.1 / 21)
    }

    @Test func removingAnotherMemberMovesItsKeysAndTheLastMembersKeys() throws {
        let keys = hashes(50_000)
        let before = try JumpHashPlacer(members: members(20))
        let after = try before.removing("m3")
        #expect(after.members[3].name == "m19")
        let moved = movedFraction(try owners(before, keys), try owners(after, keys))
        #expect(moved > 1.5 / 20 && moved < 2.2 / 20)
    }

    @Test func rejectsWeights() {
        #expect(throws: PlacementError.weightsUnsupported(placer: "jump", member: "b", weight: 2)) {
            try JumpHashPlacer(members: [PlacementMember("a"), PlacementMember("b", weight: 2)])
        }
        #expect(throws: PlacementError.weightsUnsupported(placer: "jump", member: "a", weight: 3)) {
            try JumpHashPlacer(members: [PlacementMember("a")]).reweighting("a", to: 3)
        }
    }
}
