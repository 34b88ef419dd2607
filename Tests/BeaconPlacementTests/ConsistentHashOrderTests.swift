import BeaconCore
import Testing

@testable import BeaconPlacement

/// Reference vectors for Fn's consistent-hash placer: SipHash of function ids under Fn's key,
/// Fn's (buggy) jump hash and the paper's, and the try order when every runner refuses.
@Suite struct ConsistentHashOrderTests {
    struct Vector: Sendable {
        let functionID: String
        let sipHash: UInt64
        let fnJump: [Int]
        let paperJump: [Int]
    }

    static let vectors = [
        Vector(
            functionID: "", sipHash: 0x4dcc_f8f6_e62e_a9ad,
            fnJump: [0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 6, 6], paperJump: [0, 1, 2, 2, 2, 2, 6, 6, 6, 6, 6, 6]),
        Vector(
            functionID: "a", sipHash: 0x604b_22e2_a73b_f95d,
            fnJump: [0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 6, 6], paperJump: [0, 1, 1, 3, 3, 3, 3, 3, 8, 8, 8, 8]),
        Vector(
            functionID: "fn1", sipHash: 0xd0c0_253b_fd66_ccea,
            fnJump: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 10], paperJump: [0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9]),
        Vector(
            functionID: "01D8JQJ0Q7NG8G00GZJ0000001", sipHash: 0x2e10_6ff2_6960_cd49,
            fnJump: [0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], paperJump: [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
        Vector(
            functionID: "my-function-id", sipHash: 0x1ebc_de98_f25b_0304,
            fnJump: [0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 6, 6], paperJump: [0, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3]),
    ]

    @Test(arguments: vectors)
    func startRunnersMatchTheReferenceVectors(_ vector: Vector) {
        let call = TestCall(function: vector.functionID)
        let fn = ConsistentHashOrder(mode: .fnCompatible)
        let uniform = ConsistentHashOrder(mode: .uniform)
        #expect(fn.key(for: call) == vector.sipHash)
        #expect(uniform.key(for: call) == vector.sipHash)
        #expect((1...12).map { fn.startIndex(forKey: vector.sipHash, runnerCount: $0) } == vector.fnJump)
        #expect((1...12).map { uniform.startIndex(forKey: vector.sipHash, runnerCount: $0) } == vector.paperJump)
    }

    @Test func fnJumpMatchesFnForLargerPoolsAndRawKeys() {
        let fn = ConsistentHashOrder(mode: .fnCompatible)
        let key = { (id: String) in fn.key(for: TestCall(function: id)) }
        #expect(key("abcdefgh") == 0x13fc_28d1_d468_58aa)
        #expect(key("abcdefghi") == 0xa14e_9892_9f7e_5c18)
        #expect([10, 100, 1000].map { ConsistentHashOrder.fnJumpHash(key("abcdefgh"), buckets: $0) } == [0, 62, 762])
        #expect([10, 100, 1000].map { ConsistentHashOrder.fnJumpHash(key("abcdefghi"), buckets: $0) } == [6, 58, 118])
        #expect([100, 1000].map { ConsistentHashOrder.fnJumpHash(key(""), buckets: $0) } == [21, 354])
        let sizes = [1, 2, 3, 5, 8, 13, 100, 1000]
        #expect(sizes.map { ConsistentHashOrder.fnJumpHash(0xdead_beef, buckets: $0) } == [0, 0, 2, 2, 6, 6, 93, 564])
        #expect(sizes.map { ConsistentHashOrder.fnJumpHash(.max, buckets: $0) } == [0, 0, 2, 2, 6, 6, 90, 819])
    }

    @Test func fnJumpDoesNotTrapWhereFnDividesByZero() {
        // Seed 0 makes the first state 1, and 1 >> 33 == 0: Fn panics here.
        #expect(ConsistentHashOrder.fnJumpHash(0, buckets: 10) == 0)
    }

    @Test func fnJumpNeverPicksRunnerOneAndTheUniformJumpDoes() {
        let fn = ConsistentHashOrder(mode: .fnCompatible)
        let uniform = ConsistentHashOrder(mode: .uniform)
        var fnCounts = [0, 0, 0]
        var uniformCounts = [0, 0, 0]
        for i in 0..<3000 {
            let key = fn.key(for: TestCall(function: "function-\(i)"))
            fnCounts[fn.startIndex(forKey: key, runnerCount: 3)] += 1
            uniformCounts[uniform.startIndex(forKey: key, runnerCount: 3)] += 1
        }
        #expect(fnCounts[1] == 0)
        #expect(uniformCounts.allSatisfy { $0 > 900 && $0 < 1100 })
    }

    @Test(arguments: [
        ("", 3, ["r2", "r0", "r1"]), ("", 5, ["r2", "r3", "r4", "r0", "r1"]),
        ("", 8, ["r6", "r7", "r0", "r1", "r2", "r3", "r4", "r5"]), ("fn1", 4, ["r0", "r1", "r2", "r3"]),
    ])
    func everyRunnerRefusingGivesFnsTryOrder(function: String, runnerCount: Int, expected: [String]) {
        let runners = (0..<runnerCount).map { ScriptedRunner("r\($0)", always: .busy) }
        var placement = VirtualPlacement(
            order: ConsistentHashOrder(mode: .fnCompatible), call: TestCall(function: function),
            config: config(delay: .seconds(1), timeout: .milliseconds(100)), metrics: MeasuredMetrics().placer)
        _ = placement.run(ScriptedPool(always: runners))
        #expect(placement.tried == expected)
    }
}
