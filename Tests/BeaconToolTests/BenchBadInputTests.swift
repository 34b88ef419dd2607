import Testing

/// `beacon bench …` and `beacon simulate …` refuse bad option values while parsing: exit 64, nothing
/// on stdout, and a message naming the option and what it accepts. Each case is one the issue
/// reported or a neighbour of one (negative, zero, huge, non-numeric, empty, repeated, unknown).
@Suite struct BenchBadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var mentioning: [String]
        var testDescription: String { arguments.joined(separator: " ") }

        init(_ arguments: [String], _ mentioning: [String]) {
            self.arguments = arguments
            self.mentioning = mentioning
        }
    }

    static let placers: [Case] = [
        .init(["--members", "10", "--keys", "100000000000"], ["--keys", "1024...100000000"]),
        .init(["--keys", "1023"], ["--keys", "1024...100000000"]),
        .init(["--keys", "0"], ["--keys", "1024...100000000"]),
        .init(["--keys=-1"], ["--keys", "1024...100000000"]),
        .init(["--keys", "1e6"], ["--keys", "1024...100000000"]),
        .init(["--keys", ""], ["--keys", "1024...100000000"]),
        .init(["--members", ""], ["--members", "3...1000000"]),
        .init(["--members", "10,,100"], ["--members", "position 2", "3...1000000"]),
        .init(["--members", "10,"], ["--members", "3...1000000"]),
        .init(["--members", "2"], ["--members", "3...1000000"]),
        .init(["--members", "1000001"], ["--members", "3...1000000"]),
        .init(["--members=-10"], ["--members", "3...1000000"]),
        .init(["--members", "ten"], ["--members", "3...1000000"]),
        .init(["--members", "10,100,10"], ["--members", "10 is listed twice"]),
        .init(["--only", ""], ["--only", "bounded-load", "round-robin"]),
        .init(["--only", "nosuch"], ["--only", "nosuch", "maglev"]),
        .init(["--only", "jump,,ring"], ["--only", "position 2"]),
        .init(["--only", "jump,jump"], ["--only", "jump is listed twice"]),
        .init(["--repeats", "0"], ["--repeats", "1...100"]),
        .init(["--repeats", "101"], ["--repeats", "1...100"]),
        .init(["--repeats", "1.5"], ["--repeats", "1...100"]),
        .init(["--format", "xml"], ["--format", "html"]),
    ]

    static let heartbeat: [Case] = [
        .init(["--nodes", "9999"], ["--nodes", "10000...16000000"]),
        .init(["--nodes", "16000001"], ["--nodes", "10000...16000000"]),
        .init(["--nodes", "100000000000"], ["--nodes", "10000...16000000"]),
        .init(["--nodes", "many"], ["--nodes", "10000...16000000"]),
        .init(["--repeats", "0"], ["--repeats", "1...100"]),
        .init(["--idle-seconds", "0.05"], ["--idle-seconds", "[0.1, 600]"]),
        .init(["--idle-seconds", "601"], ["--idle-seconds", "[0.1, 600]"]),
        .init(["--idle-seconds", "nan"], ["--idle-seconds", "[0.1, 600]"]),
        .init(["--idle-seconds=-1"], ["--idle-seconds", "[0.1, 600]"]),
        .init(["--idle-seconds", "1e2"], ["--idle-seconds", "[0.1, 600]"]),
        .init(["--steady-seconds", "0.5"], ["--steady-seconds", "[1, 600]"]),
        .init(["--steady-seconds", "inf"], ["--steady-seconds", "[1, 600]"]),
    ]

    static let diff: [Case] = [
        .init(["--payload-bytes=-1"], ["--payload-bytes", "0...16384"]),
        .init(["--payload-bytes", "65536"], ["--payload-bytes", "0...16384"]),
        .init(["--payload-bytes", "16385"], ["--payload-bytes", "0...16384"]),
        .init(["--repeats", "0"], ["--repeats", "1...1000"]),
        .init(["--repeats", "1001"], ["--repeats", "1...1000"]),
        .init(["--format", ""], ["--format"]),
    ]

    static let placement: [Case] = [
        .init(["--runners", "1"], ["--runners", "10...1000"]),
        .init(["--runners", "9"], ["--runners", "10...1000"]),
        .init(["--runners", "1001"], ["--runners", "10...1000"]),
        .init(["--runners", ""], ["--runners", "10...1000"]),
        .init(["--runners", "10,,100"], ["--runners", "position 2"]),
        .init(["--runners", "10,10"], ["--runners", "10 is listed twice"]),
        .init(["--utilisation", "0"], ["--utilisation", "(0, 1.5]"]),
        .init(["--utilisation", "1.6"], ["--utilisation", "(0, 1.5]"]),
        .init(["--utilisation", "nan"], ["--utilisation", "(0, 1.5]"]),
        .init(["--utilisation", "0.5,0.50"], ["--utilisation", "0.5 is listed twice"]),
        .init(["--slots", "0"], ["--slots", "1...10000"]),
        .init(["--slots", "10001"], ["--slots", "1...10000"]),
        .init(["--functions", "0"], ["--functions", "1...10000000"]),
        .init(["--functions", "100000000000"], ["--functions", "1...10000000"]),
        .init(["--zipf=-1"], ["--zipf", "[0, 5]"]),
        .init(["--zipf", "5.1"], ["--zipf", "[0, 5]"]),
        .init(["--service-ms", "0"], ["--service-ms", "(0, 3600000]"]),
        .init(["--service-ms", "inf"], ["--service-ms", "(0, 3600000]"]),
        .init(["--attempt-us=-1"], ["--attempt-us", "[0, 1000000]"]),
        .init(["--seconds", "0"], ["--seconds", "(0, 3600]"]),
        .init(["--seconds", "3601"], ["--seconds", "(0, 3600]"]),
        .init(["--epsilon", "0"], ["--epsilon", "(0, 10]"]),
        .init(["--epsilon", "11"], ["--epsilon", "(0, 10]"]),
        .init(["--seed=-1"], ["--seed", "18446744073709551615"]),
        .init(["--seed", "18446744073709551616"], ["--seed", "18446744073709551615"]),
        .init(["--seed", "+1"], ["--seed", "18446744073709551615"]),
        .init(["--overhead-calls=-1"], ["--overhead-calls", "0...100000000"]),
        .init(["--overhead-calls", "100000001"], ["--overhead-calls", "0...100000000"]),
        .init(["--only", ""], ["--only", "naive", "power-of-two"]),
        .init(["--only", "nosuch"], ["--only", "nosuch"]),
        .init(["--only", "ch,ch"], ["--only", "ch is listed twice"]),
        .init(["--runners", "1000", "--slots", "10000", "--service-ms", "0.001"], ["--seconds", "at most 100000000"]),
    ]

    static let simulate: [Case] = [
        .init(["--nodes", "0"], ["--nodes", "1...16777216"]),
        .init(["--nodes", "16777217"], ["--nodes", "1...16777216"]),
        .init(["--nodes", "abc"], ["--nodes", "1...16777216"]),
        .init(["--duration", "29s"], ["--duration", "30s...24h"]),
        .init(["--duration", "25h"], ["--duration", "30s...24h"]),
        .init(["--duration", "30"], ["--duration"]),
        .init(["--duration=-1s"], ["--duration"]),
        .init(["--silent-fraction", "1.5"], ["--silent-fraction", "[0, 1]"]),
        .init(["--silent-fraction=-0.1"], ["--silent-fraction", "[0, 1]"]),
        .init(["--nodes", "500", "--assignment-nodes", "2000"], ["--assignment-nodes", "2000", "0...500"]),
        .init(["--assignment-nodes=-1"], ["--assignment-nodes"]),
        .init(["--churn=-1"], ["--churn", "0...100000"]),
        .init(["--churn", "100001"], ["--churn", "0...100000"]),
        .init(["--seed=-1"], ["--seed", "18446744073709551615"]),
        .init(["--format", "pdf"], ["--format", "html"]),
    ]

    @Test(arguments: placers) func benchPlacers(_ bad: Case) async throws {
        try await expectRejected("beacon", ["bench", "placers"] + bad.arguments, mentioning: bad.mentioning)
    }

    @Test(arguments: heartbeat) func benchHeartbeat(_ bad: Case) async throws {
        try await expectRejected("beacon", ["bench", "heartbeat"] + bad.arguments, mentioning: bad.mentioning)
    }

    @Test(arguments: diff) func benchDiff(_ bad: Case) async throws {
        try await expectRejected("beacon", ["bench", "diff"] + bad.arguments, mentioning: bad.mentioning)
    }

    @Test(arguments: placement) func benchPlacement(_ bad: Case) async throws {
        try await expectRejected("beacon", ["bench", "placement"] + bad.arguments, mentioning: bad.mentioning)
    }

    @Test(arguments: simulate) func simulateDispatcher(_ bad: Case) async throws {
        try await expectRejected("beacon", ["simulate", "dispatcher"] + bad.arguments, mentioning: bad.mentioning)
    }

    /// Each command's help shows the ranges its options accept.
    @Test(arguments: [
        (["bench", "placers"], ["3...1000000", "1024...100000000", "1...100"]),
        (["bench", "heartbeat"], ["10000...16000000", "[0.1, 600]", "[1, 600]"]),
        (["bench", "diff"], ["0...16384", "1...1000"]),
        (["bench", "placement"], ["10...1000", "(0, 1.5]", "1...10000", "[0, 5]", "(0, 3600]"]),
        (["simulate", "dispatcher"], ["1...16777216", "30s...24h", "[0, 1]", "0...100000", "html"]),
    ])
    func helpShowsTheRanges(_ command: [String], _ ranges: [String]) async throws {
        let outcome = try await ToolProcess.run("beacon", command + ["--help"])
        #expect(outcome.exitCode == 0)
        // Help wraps long lines; the ranges are compared with the wrapping undone.
        let help = outcome.standardOutput.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for range in ranges { #expect(help.contains(range), "\(command.joined(separator: " ")) --help lacks \(range)") }
    }
}
