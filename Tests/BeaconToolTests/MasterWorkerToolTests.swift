import Foundation
import Testing

/// Good input still works after the options moved to the shared parsers, help shows every range
/// and duration as typed, and `bench status` leaves nothing behind in the temporary folder.
@Suite struct MasterWorkerToolTests {
    /// A folder of the test's own, removed afterwards.
    static func withFolder(_ body: (URL) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("beacon-tool-tests-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await body(folder)
    }

    @Test(arguments: [
        (
            ["run"],
            [
                "1...10000", "1ms...1000000000s", "(default: until killed)", "1ms...10m", "(default: 200ms)", "0s...1h",
                "(default: 0s)",
            ]
        ),
        (["bench", "heartbeats"], ["1...10000000", "1s...24h", "(default: 1m)", "[0, 100]", "200000000"]),
        (["bench", "master"], ["1...1000000", "30s...24h", "(default: 30s)", "[0, 100]", "1...20 (default: 3)"]),
        (["bench", "status"], ["1...1000000", "100ms...1h", "(default: 10s)", "3000000"]),
    ])
    func helpShowsRangesAndDurationsAsTyped(_ command: [String], _ expected: [String]) async throws {
        let help = try await HelpText.of("beacon-master-worker", command)
        for text in expected { #expect(help.contains(text), "\(command) --help lacks '\(text)': \(help)") }
    }

    @Test func aShortRunAcknowledgesStatusesAndExits() async throws {
        try await Self.withFolder { folder in
            let outcome = try await ToolProcess.run(
                "beacon-master-worker",
                [
                    "run", "--database", folder.appendingPathComponent("job.sqlite").path, "--workers", "2",
                    "--duration", "300ms",
                    "--heartbeat-interval", "50ms", "--pause", "10ms",
                ])
            #expect(outcome.exitCode == 0 && !outcome.signalled, "\(outcome.standardError)")
            #expect(outcome.standardOutput.hasPrefix("master ") && outcome.standardOutput.contains(" first-start\n"))
            #expect(outcome.standardOutput.contains("ack job-1-w1 1"))
        }
    }

    /// The default folder used to be `beacon-status-<pid>`, left in the temporary folder.
    @Test func benchStatusRemovesItsTemporaryFolder() async throws {
        try await Self.withFolder { folder in
            let outcome = try await ToolProcess.run(
                "beacon-master-worker",
                ["bench", "status", "--rate", "1000", "--duration", "100ms", "--workers", "10"],
                environment: ["TMPDIR": folder.path])
            #expect(outcome.exitCode == 0 && !outcome.signalled, "\(outcome.standardError)")
            #expect(outcome.standardOutput.contains("1000/s grouped, synchronous=FULL"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [])
        }
    }

    /// A folder the user names may be new (its parent exists) and keeps the files.
    @Test func benchStatusKeepsItsFilesInAFolderTheUserNamed() async throws {
        try await Self.withFolder { folder in
            let named = folder.appendingPathComponent("status")
            let outcome = try await ToolProcess.run(
                "beacon-master-worker",
                [
                    "bench", "status", "--rate", "1000", "--duration", "100ms", "--workers", "10", "--directory",
                    named.path,
                ])
            #expect(outcome.exitCode == 0 && !outcome.signalled, "\(outcome.standardError)")
            let files = try FileManager.default.contentsOfDirectory(atPath: named.path)
            #expect(files.contains("status-NORMAL.sqlite") && files.contains("status-FULL.sqlite"))
        }
    }
}
