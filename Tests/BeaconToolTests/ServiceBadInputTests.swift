import Testing

/// `beacon serve | agent | loadgen` refuse bad input before they start, the same way in every
/// build: the command line is the same interface whatever the build, so these cases run in the
/// default build too. Only a command line they accept meets the build: without the GRPC trait
/// they then say so (the network CI step runs the same table in a GRPC build).
@Suite(.timeLimit(.minutes(5))) struct ServiceBadInputTests {
    /// A command, its arguments, and what its refusal must mention.
    struct Case: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        let mentioning: [String]
        init(_ arguments: [String], _ mentioning: String...) {
            self.arguments = arguments
            self.mentioning = mentioning
        }
        var testDescription: String { ToolProcess.commandLine("beacon", arguments) }
    }

    @Test(arguments: [
        ("serve", "--metrics"), ("serve", "0...65535"), ("serve", "1ms...1h"), ("serve", "--log-level"),
        ("serve", "0...1000"), ("serve", "0...65536"), ("agent", "1...65535"), ("agent", "--log-level"),
        ("agent", "1ms...1000000s"), ("loadgen", "1...200000"), ("loadgen", "1...10000"), ("loadgen", "0s...1000000s"),
    ])
    func helpShowsTheRanges(command: String, text: String) async throws {
        let outcome = try await ToolProcess.run("beacon", [command, "--help"])
        #expect(outcome.exitCode == 0 && !outcome.signalled)
        #expect(outcome.standardOutput.contains(text), "`beacon \(command) --help` does not show \(text)")
    }

    static let badInput: [Case] = [
        // serve
        Case(["serve", "--metrics", "127.0.0.1"], "--metrics", "host:port"),
        Case(["serve", "--metrics", "127.0.0.1:65536"], "--metrics", "0...65535"),
        Case(["serve", "--metrics", "127.0.0.1:-1"], "--metrics", "0...65535"),
        Case(["serve", "--metrics", "localhost:9090"], "--metrics", "IPv4"),
        Case(["serve", "--metrics", "::1:9090"], "--metrics", "bracketed IPv6"),
        Case(["serve", "--metrics", ""], "--metrics"),
        Case(["serve", "--listen", "127.0.0.1:99999999999999999999"], "--listen", "0...65535"),
        Case(["serve", "--listen", "[::1]"], "--listen", "host:port"),
        Case(["serve", "--log-level", "loud"], "--log-level", "trace"),
        Case(["serve", "--period", "0s"], "--period", "1ms to 1h"),
        Case(["serve", "--period", "2h"], "--period", "1ms to 1h"),
        Case(["serve", "--period", "5"], "--period", "unit"),
        Case(["serve", "--jitter", "5s"], "--jitter", "below --period"),
        Case(["serve", "--grace", "0.5"], "--grace", "[1, 100]"),
        Case(["serve", "--grace", "nan"], "--grace", "[1, 100]"),
        Case(["serve", "--grace", "101"], "--grace", "[1, 100]"),
        Case(["serve", "--report-every", "0s"], "--report-every", "100ms to 1h"),
        Case(["serve", "--tasks-per-node", "-1"], "--tasks-per-node", "0...1000"),
        Case(["serve", "--tasks-per-node", "100000000000"], "--tasks-per-node", "0...1000"),
        Case(["serve", "--task-bytes", "65537"], "--task-bytes", "0...65536"),
        Case(["serve", "--group", ""], "--group"),
        Case(["serve", "--name", "a b"], "--name", "visible ASCII"),
        Case(["serve", "--expiry-log", "/nonexistent/folder/expiries"], "--expiry-log", "existing folder"),
        Case(["serve", "--tls-cert", "server.pem"], "--tls-cert", "--tls-key"),
        Case(["serve", "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"], "--tls-cert", "cannot read"),
        Case(["serve", "--client-ca", "ca.pem"], "--client-ca"),
        Case(["serve", "--etcd", ""], "--etcd"),
        // agent
        Case(["agent", "--node", "n1"], "--manager"),
        Case(["agent", "--node", "n1", "--manager", "nohost"], "--manager", "port"),
        Case(["agent", "--node", "n1", "--manager", "127.0.0.1:0"], "--manager", "1...65535"),
        Case(["agent", "--node", "", "--manager", "127.0.0.1:4242"], "--node", "visible ASCII"),
        Case(["agent", "--node", "a\nb", "--manager", "127.0.0.1:4242"], "--node", "visible ASCII"),
        Case(["agent", "--node", "n1", "--manager", "127.0.0.1:4242", "--duration", "0s"], "--duration", "1ms to 1000000s"),
        Case(["agent", "--node", "n1", "--manager", "127.0.0.1:4242", "--duration", "30"], "--duration", "unit"),
        Case(["agent", "--node", "n1", "--manager", "127.0.0.1:4242", "--tls-cert", "c.pem", "--tls-key", "k.pem"], "--tls-ca"),
        Case(["agent", "--node", "n1", "--manager", "127.0.0.1:4242", "--tls-ca", "/nonexistent.pem"], "--tls-ca", "cannot read"),
        Case(["agent", "--node", "n1", "--manager", "127.0.0.1:4242", "--log-level", "verbose"], "--log-level"),
        // loadgen
        Case(["loadgen", "--nodes", "0"], "--nodes", "1...200000"),
        Case(["loadgen", "--nodes", "100000000000"], "--nodes", "1...200000"),
        Case(["loadgen", "--connections", "0"], "--connections", "1...10000"),
        Case(["loadgen", "--duration", "0s"], "--duration", "1ms to 1000000s"),
        Case(["loadgen", "--duration=-1s"], "--duration", "no sign"),
        Case(["loadgen", "--ramp", "99999999999h"], "--ramp", "0s to 1000000s"),
        Case(["loadgen", "--assignment-nodes", "-1"], "--assignment-nodes", "0...200000"),
        Case(["loadgen", "--stop-fraction", "1.5"], "--stop-fraction", "[0, 1]"),
        Case(["loadgen", "--stop-fraction", "nan"], "--stop-fraction", "[0, 1]"),
        Case(["loadgen", "--period", "0s"], "--period", "1ms to 1h"),
        Case(["loadgen", "--jitter", "5s"], "--jitter", "below --period"),
        Case(["loadgen", "--grace", "0"], "--grace", "[1, 100]"),
        Case(["loadgen", "--prefix", ""], "--prefix", "visible ASCII"),
        Case(["loadgen", "--server-pid", "0"], "--server-pid", "1...2147483647"),
        Case(["loadgen", "--manager", "127.0.0.1"], "--manager", "port"),
        Case(["loadgen", "--log-level", "all"], "--log-level"),
    ]

    @Test(arguments: badInput)
    func refusesBadInput(_ input: Case) async throws {
        try await expectRejected("beacon", input.arguments, mentioning: input.mentioning)
    }

    #if !GRPC
    /// A command line the commands accept, in a build that cannot run them.
    @Test(arguments: [
        ["serve"], ["serve", "--metrics", "127.0.0.1:0", "--grace", "2"], ["agent", "--node", "n1", "--manager", "127.0.0.1:4242"],
        ["loadgen", "--nodes", "10"],
    ])
    func saysTheGRPCTraitIsMissing(_ arguments: [String]) async throws {
        try await expectRejected("beacon", arguments, mentioning: ["`beacon \(arguments[0])` needs the GRPC trait", "--traits GRPC"])
    }
    #endif
}
