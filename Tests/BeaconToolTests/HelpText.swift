import Testing

/// A command's `--help`, with its line wrapping undone so a phrase can be looked for whole.
enum HelpText {
    static func of(_ tool: String, _ command: [String]) async throws -> String {
        let outcome = try await ToolProcess.run(tool, command + ["--help"])
        #expect(outcome.exitCode == 0 && !outcome.signalled, "\(tool) \(command) --help: \(outcome.standardError)")
        return outcome.standardOutput.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

/// Every command of both tools shows its defaults as they are typed: a duration option's as
/// `5s`, never the struct dump `DurationArgument(value: 60.0 seconds)` nor `60.0 seconds`.
@Suite struct HelpDefaultsTests {
    @Test(arguments: [
        ("beacon-master-worker", ["run"]), ("beacon-master-worker", ["bench", "heartbeats"]),
        ("beacon-master-worker", ["bench", "master"]), ("beacon-master-worker", ["bench", "status"]),
        ("beacon", ["bench", "placers"]), ("beacon", ["bench", "heartbeat"]), ("beacon", ["bench", "diff"]),
        ("beacon", ["bench", "placement"]), ("beacon", ["simulate", "dispatcher"]), ("beacon", ["scheduler", "join"]),
        ("beacon", ["scheduler", "bench"]), ("beacon", ["serve"]), ("beacon", ["agent"]), ("beacon", ["loadgen"]),
    ])
    func defaultsAreShownAsTyped(_ tool: String, _ command: [String]) async throws {
        let help = try await HelpText.of(tool, command)
        #expect(!help.contains("DurationArgument("), "\(tool) \(command) --help: \(help)")
        #expect(!help.contains(" seconds)"), "\(tool) \(command) --help: \(help)")
    }
}
