import BeaconCore
import Foundation
import FuzzReplay
import Testing

@testable import BeaconDispatcher

/// Replays every committed `HeartbeatDatagramFuzz` input (seeds and regressions) through the
/// harness the libFuzzer target runs, and shows the harness notices a responder that disagrees
/// with its model.
@Suite struct HeartbeatDatagramFuzzTests {
    @Test(arguments: FuzzCorpus.inputs(of: "HeartbeatDatagramFuzz"))
    func committedInput(_ file: URL) throws {
        #expect(try FuzzCorpus.failure(replaying: file, through: HeartbeatDatagramFuzzHarness.run) == nil)
    }

    /// Runs `operations` (the harness's own encoding) on a fresh run, every check holding.
    private func run(_ operations: [UInt8]) throws -> HeartbeatDatagramFuzzHarness.Run {
        var run = try HeartbeatDatagramFuzzHarness.Run()
        try operations.withUnsafeBytes { bytes in
            var reader = FuzzByteReader(bytes)
            while let operation = reader.next() {
                let broken = run.step(operation, &reader)
                try #require(broken == nil, "\(broken ?? "")")
            }
        }
        return run
    }

    @Test func aReplayTheResponderRefusesButTheModelExpectsAnsweredIsReported() throws {
        // node-a beats 1 and 2; a model that forgot the second expects a replay of 2 answered.
        var run = try run([0, 0, 0, 0])
        #expect(run.nodes[0].lastAccepted == 2)
        run.nodes[0].lastAccepted = 1
        var reader = FuzzByteReader(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(run.step(0, &reader)?.contains("unanswered") == true)
    }

    @Test func anAnswerToASessionTheModelCountsReplacedIsReported() throws {
        // node-a registers again; a model still holding the old session expects its beats
        // refused, so the new session's beat is "answered, which no current session sends".
        var run = try run([7, 0])
        let current = run.nodes[0].session
        run.nodes[0].session = try #require(run.nodes[0].replaced.last)
        run.nodes[0].replaced = [current]
        var reader = FuzzByteReader(UnsafeRawBufferPointer(start: nil, count: 0))
        let failure = run.step(6, &reader)
        #expect(failure?.contains("no current session sends fresh") == true, "\(failure ?? "nil")")
    }
}
