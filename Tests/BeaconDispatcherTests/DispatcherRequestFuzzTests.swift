import BeaconCore
import Foundation
import FuzzReplay
import Testing

@testable import BeaconDispatcher

/// Replays every committed `DispatcherRequestFuzz` input (seeds and regressions) through the
/// harness the libFuzzer target runs, and shows the harness notices a dispatcher that disagrees
/// with its model.
@Suite struct DispatcherRequestFuzzTests {
    @Test(arguments: FuzzCorpus.inputs(of: "DispatcherRequestFuzz"))
    func committedInput(_ file: URL) throws {
        #expect(try FuzzCorpus.failure(replaying: file, through: DispatcherRequestFuzzHarness.run) == nil)
    }

    /// A registered node with a status write queued, through the harness's own request decoding.
    private func runWithQueuedStatus() throws -> DispatcherRequestFuzzHarness.Run {
        var run = try DispatcherRequestFuzzHarness.Run(shape: 0)
        // register node-a (no resume), then report task a1 (its first own task) RUNNING.
        let requests: [UInt8] = [6, 0, 6, 3, 0, 0, 1, 0, 7]
        try requests.withUnsafeBytes { bytes in
            var reader = FuzzByteReader(bytes)
            while let request = reader.next() {
                let refused = run.step(request, &reader)
                try #require(refused == nil, "\(refused ?? "")")
                let broken = run.check()
                try #require(broken == nil, "\(broken ?? "")")
            }
        }
        #expect(run.model.pendingTasks["a1"]?.state == .running)
        return run
    }

    @Test func aWriteTheDispatcherDidNotQueueIsReported() throws {
        var run = try runWithQueuedStatus()
        run.model.pendingTasks["a2"] = TaskStatus(state: .failed)
        #expect(run.check()?.contains("queued") == true)
    }

    @Test func aSessionTheDispatcherDoesNotHoldIsReported() throws {
        var run = try runWithQueuedStatus()
        let current = try #require(run.model.current(0))
        let forged = try SessionID(String(current.description.prefix(16)) + "00000000000000ff")
        run.model.nodes[0].liveness = .registered(forged, earliest: .max, latest: .max)
        #expect(run.check()?.contains("lost its session") == true)
    }

    @Test func aStoreThatDisagreesAfterTheFlushIsReported() throws {
        var run = try runWithQueuedStatus()
        run.model.tasks[1].status = TaskStatus(state: .complete)
        // Advance by the 100 ms flush interval: the store is compared once the writes commit.
        let advance: [UInt8] = [8, 4]
        let failure = advance.withUnsafeBytes { bytes -> String? in
            var reader = FuzzByteReader(bytes)
            if let refused = run.step(reader.next()!, &reader) { return refused }
            return run.check()
        }
        #expect(failure?.contains("task a2") == true)
    }

    @Test func theModelParserAndSessionIDAgreeOnTheGenerationBound() {
        let text = "00000000" + "40000000" + "0000000000000001"
        #expect(SessionTextModel.parse(text) == nil)
        #expect(throws: DispatcherError.sessionInvalid) { try SessionID(text) }
        // The model parser and SessionID agree on the largest generation allowed.
        let largest = "00000000" + "3fffffff" + "0000000000000001"
        #expect(SessionTextModel.parse(largest)?.generation == 0x3FFF_FFFF)
        #expect(throws: Never.self) { _ = try SessionID(largest) }
    }
}
