import Foundation
import FuzzReplay
import Testing

@testable import BeaconCore

/// Replays every committed fuzz input (the seed corpus and the regressions found so far)
/// through the same harness the `RingFuzz` target runs.
@Suite struct FuzzRegressionTests {
    /// Every target `Fuzz/run.sh` (and so CI) runs has at least ten committed seeds and a planted
    /// bug, and every seed corpus belongs to a target it runs.
    @Test func everyTargetHasSeedsAndAPlantedBug() throws {
        let script = try String(contentsOf: FuzzCorpus.directory.appendingPathComponent("run.sh"), encoding: .utf8)
        let list = try #require(script.split(separator: "\n").first { $0.hasPrefix("targets=(") })
        let targets = list.dropFirst("targets=(".count).dropLast().split(separator: " ").map(String.init)
        #expect(targets.count >= 8)
        for target in targets {
            #expect(FuzzCorpus.seeds(of: target).count >= 10, "\(target) has fewer than 10 seeds")
            let patch = FuzzCorpus.directory.appendingPathComponent("planted/\(target).patch")
            #expect(FileManager.default.fileExists(atPath: patch.path), "\(target) has no planted bug")
        }
        let corpora = try FileManager.default.contentsOfDirectory(
            atPath: FuzzCorpus.directory.appendingPathComponent("corpus").path)
        #expect(Set(corpora) == Set(targets))
        #expect(!FuzzCorpus.regressions(of: "RingFuzz").isEmpty)
    }

    @Test(arguments: FuzzCorpus.inputs(of: "RingFuzz"))
    func ringFuzzInput(_ file: URL) throws {
        #expect(try FuzzCorpus.failure(replaying: file, through: RingFuzzHarness.run) == nil)
    }

    @Test(arguments: FuzzCorpus.inputs(of: "HeartbeatFuzz"))
    func heartbeatFuzzInput(_ file: URL) throws {
        #expect(try FuzzCorpus.failure(replaying: file, through: HeartbeatFuzzHarness.run) == nil)
    }

    @Test(arguments: FuzzCorpus.inputs(of: "DiffFuzz"))
    func diffFuzzInput(_ file: URL) throws {
        #expect(try FuzzCorpus.failure(replaying: file, through: DiffFuzzHarness.run) == nil)
    }

    /// The diff harness is not vacuous: a batch that breaks the budget or the part flags is reported.
    @Test func diffHarnessReportsABrokenBatch() throws {
        let set = try AssignmentSet(
            (0..<40).map { Assignment(key: AssignmentKey(packed: UInt64($0)), version: 1, payload: [1, 2, 3]) })
        let messages = try AssignmentEncoder(byteBudget: 256).encode(
            AssignmentDiff(from: AssignmentSet(), to: set), as: .complete, after: 0)
        var applier = AssignmentApplier()
        #expect(try DiffFuzzHarness.deliver(messages, to: &applier, budget: 200) != nil)
        applier.reset()
        #expect(try DiffFuzzHarness.deliver(Array(messages.dropLast()), to: &applier, budget: 256) != nil)
        applier.reset()
        #expect(try DiffFuzzHarness.deliver(messages, to: &applier, budget: 256) == nil)
    }

    /// The harness is not vacuous: a broken model is reported.
    @Test func harnessReportsABrokenInvariant() throws {
        var state = try RingFuzzHarness.State()
        _ = try state.add("m1", 1)
        state.model.append(("ghost", 1))
        #expect(state.check() != nil)
    }
}
