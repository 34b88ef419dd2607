import Testing

/// The harness itself: a tool's exit status and both outputs come back, a refused option is
/// recognised as one.
@Suite struct ToolProcessTests {
    @Test func helpIsPrintedOnStandardOutputWithExitZero() async throws {
        let outcome = try await ToolProcess.run("beacon-master-worker", ["--help"])
        #expect(outcome.exitCode == 0 && !outcome.signalled)
        #expect(outcome.standardOutput.contains("USAGE"))
        #expect(outcome.standardError.isEmpty)
    }

    @Test func anUnknownOptionIsRejected() async throws {
        try await expectRejected("beacon", ["--no-such-option"], mentioning: ["--no-such-option"])
    }
}
