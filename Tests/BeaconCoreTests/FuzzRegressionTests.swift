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

    /// The harness is not vacuous: a broken model is reported.
    @Test func harnessReportsABrokenInvariant() throws {
        var state = try RingFuzzHarness.State()
        _ = try state.add("m1", 1)
        state.model.append(("ghost", 1))
        #expect(state.check() != nil)
    }
}
