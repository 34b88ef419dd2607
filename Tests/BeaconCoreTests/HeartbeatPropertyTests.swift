import PropertyBased
import Testing

@testable import BeaconCore

/// The fuzz harness's model checks (never early, never lost, removal fences expiry, stale
/// handles rejected) over random operation sequences, plus a replay of the committed corpus.
@Suite struct HeartbeatPropertyTests {
    @Test func randomSequencesKeepEveryInvariant() async {
        await propertyCheck(count: 400, input: Gen.uint8().array(of: 1...600)) { bytes in
            let failure = bytes.withUnsafeBytes { HeartbeatFuzzHarness.run($0) }
            #expect(failure == nil, "\(failure ?? "") for \(bytes)")
        }
    }

    /// Long runs of small advances with many beats: the steady state of a busy wheel.
    @Test func busyWheelsKeepEveryInvariant() async {
        let step = Gen<[UInt8]>.oneOf(
            Gen.uint8().map { [2, $0, 200] },  // beat a node with a long TTL
            Gen.uint8().map { [5, $0 % 64] },  // advance a few slots
            Gen.uint8().map { [0, $0] })  // register
        await propertyCheck(count: 100, input: step.array(of: 50...400)) { steps in
            let bytes: [UInt8] = [UInt8(16)] + steps.flatMap { $0 }
            let failure = bytes.withUnsafeBytes { HeartbeatFuzzHarness.run($0) }
            #expect(failure == nil, "\(failure ?? "")")
        }
    }

    /// The harness is not vacuous: a model that disagrees with the wheel is reported.
    @Test func harnessReportsABrokenModel() throws {
        var state = try HeartbeatFuzzHarness.State(shape: 0)
        #expect(try state.register(2000) == nil)
        try #require(state.nodes.count == 1)
        state.nodes[0].deadline += 100_000
        #expect(try state.advance(by: 20_000) != nil)
    }
}
