@testable import BeaconCore
import Foundation
import Testing

/// Replays every committed fuzz input (the seed corpus and the regressions found so far)
/// through the same harness the `RingFuzz` target runs.
@Suite struct FuzzRegressionTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs(_ folder: String) -> [URL] {
        let directory = fuzzDirectory.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().map { directory.appendingPathComponent($0) }
    }

    @Test func committedInputsExist() {
        #expect(Self.inputs("corpus/RingFuzz").count >= 10)
        #expect(!Self.inputs("Regressions/RingFuzz").isEmpty)
        #expect(Self.inputs("corpus/HeartbeatFuzz").count >= 10)
        #expect(Self.inputs("corpus/DiffFuzz").count >= 10)
    }

    @Test(arguments: inputs("Regressions/RingFuzz") + inputs("corpus/RingFuzz"))
    func ringFuzzInput(_ file: URL) throws {
        let data = try Data(contentsOf: file)
        let failure = data.withUnsafeBytes { RingFuzzHarness.run($0) }
        #expect(failure == nil, "\(file.lastPathComponent): \(failure ?? "")")
    }

    @Test(arguments: inputs("corpus/HeartbeatFuzz") + inputs("Regressions/HeartbeatFuzz"))
    func heartbeatFuzzInput(_ file: URL) throws {
        let data = try Data(contentsOf: file)
        let failure = data.withUnsafeBytes { HeartbeatFuzzHarness.run($0) }
        #expect(failure == nil, "\(file.lastPathComponent): \(failure ?? "")")
    }

    @Test(arguments: inputs("corpus/DiffFuzz") + inputs("Regressions/DiffFuzz"))
    func diffFuzzInput(_ file: URL) throws {
        let data = try Data(contentsOf: file)
        let failure = data.withUnsafeBytes { DiffFuzzHarness.run($0) }
        #expect(failure == nil, "\(file.lastPathComponent): \(failure ?? "")")
    }

    /// The diff harness is not vacuous: a batch that breaks the budget or the part flags is reported.
    @Test func diffHarnessReportsABrokenBatch() throws {
        let set = try AssignmentSet((0..<40).map { Assignment(key: AssignmentKey(packed: UInt64($0)), version: 1, payload: [1, 2, 3]) })
        let messages = try AssignmentEncoder(byteBudget: 256).encode(AssignmentDiff(from: AssignmentSet(), to: set), as: .complete, after: 0)
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
