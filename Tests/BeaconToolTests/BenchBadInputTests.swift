import Testing

/// `beacon bench …` and `beacon simulate …` refuse bad option values while parsing: exit 64, nothing
/// on stdout, and a message naming the option and what it accepts. Each case is one the issue
/// reported or a neighbour of one (negative, zero, huge, non-numeric, empty, repeated, unknown).
@Suite struct BenchBadInputTests {
    static let placers: [RejectedInput] = [
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

    static let heartbeat: [RejectedInput] = [
        .init(["--nodes", "9999"], ["--nodes", "10000...16000000"]),
        .init(["--nodes", "16000001"], ["--nodes", "10000...16000000"]),
        .init(["--nodes", "100000000000"], ["--nodes", "10000...16000000"]),
        .init(["--nodes", "many"], ["--nodes", "10000...16000000"]),
        .init(["--repeats", "0"], ["--repeats", "1...100"]),
        .init(["--idle", "50ms"], ["--idle", "100ms to 10m"]),
        .init(["--idle", "601s"], ["--idle", "100ms to 10m"]),
        .init(["--idle", "nan"], ["--idle", "(ms, s, m, h)"]),
        .init(["--idle=-1s"], ["--idle", "no sign"]),
        .init(["--idle", "1e2s"], ["--idle", "(ms, s, m, h)"]),
        .init(["--idle", "10"], ["--idle", "(ms, s, m, h)", "100ms to 10m"]),
        .init(["--steady", "500ms"], ["--steady", "1s to 10m"]),
        .init(["--steady", "inf"], ["--steady", "(ms, s, m, h)"]),
        .init(["--steady", "11m"], ["--steady", "1s to 10m"]),
        .init(["--idle-seconds", "10"], ["Unknown option '--idle-seconds'"]),
        .init(["--steady-seconds", "10"], ["Unknown option '--steady-seconds'"]),
    ]

    static let diff: [RejectedInput] = [
        .init(["--payload-bytes=-1"], ["--payload-bytes", "0...16384"]),
        .init(["--payload-bytes", "65536"], ["--payload-bytes", "0...16384"]),
        .init(["--payload-bytes", "16385"], ["--payload-bytes", "0...16384"]),
        .init(["--repeats", "0"], ["--repeats", "1...1000"]),
        .init(["--repeats", "1001"], ["--repeats", "1...1000"]),
        .init(["--format", ""], ["--format"]),
    ]

    static let placement: [RejectedInput] = [
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
        .init(["--service-time", "0s"], ["--service-time", "1ms to 1h"]),
        .init(["--service-time", "inf"], ["--service-time", "(ms, s, m, h)"]),
        .init(["--service-time", "100"], ["--service-time", "(ms, s, m, h)"]),
        .init(["--service-time", "0.5ms"], ["--service-time", "finer than a millisecond"]),
        .init(["--attempt-cost=-1ms"], ["--attempt-cost", "no sign"]),
        .init(["--attempt-cost", "200"], ["--attempt-cost", "(ms, s, m, h)"]),
        .init(["--attempt-cost", "0.0005ms"], ["--attempt-cost", "finer than a microsecond"]),
        .init(["--attempt-cost", "2s"], ["--attempt-cost", "0s to 1s"]),
        .init(["--duration", "0s"], ["--duration", "1ms to 1h"]),
        .init(["--duration", "3601s"], ["--duration", "1ms to 1h"]),
        .init(["--duration", "30"], ["--duration", "(ms, s, m, h)"]),
        .init(["--seconds", "30"], ["Unknown option '--seconds'"]),
        .init(["--service-ms", "100"], ["Unknown option '--service-ms'"]),
        .init(["--attempt-us", "200"], ["Unknown option '--attempt-us'"]),
        .init(["--epsilon", "0"], ["--epsilon", "(0, 10]"]),
        .init(["--epsilon", "11"], ["--epsilon", "(0, 10]"]),
        .init(["--seed=-1"], ["--seed", "0...9223372036854775807"]),
        .init(["--seed", "9223372036854775808"], ["--seed", "0...9223372036854775807"]),
        .init(["--seed", "+1"], ["--seed", "0...9223372036854775807"]),
        .init(["--overhead-calls=-1"], ["--overhead-calls", "0...100000000"]),
        .init(["--overhead-calls", "100000001"], ["--overhead-calls", "0...100000000"]),
        .init(["--only", ""], ["--only", "naive", "power-of-two"]),
        .init(["--only", "nosuch"], ["--only", "nosuch"]),
        .init(["--only", "ch,ch"], ["--only", "ch is listed twice"]),
        .init(
            ["--runners", "1000", "--slots", "10000", "--service-time", "1ms"], ["--duration", "at most 100000000"]),
    ]

    static let simulate: [RejectedInput] = [
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
        .init(["--seed=-1"], ["--seed", "0...9223372036854775807"]),
        .init(["--format", "pdf"], ["--format", "html"]),
        .init(["--virtual-time", "--managers", "1"], ["--managers", "2...16"]),
        .init(["--virtual-time", "--managers", "17"], ["--managers", "2...16"]),
        .init(["--managers", "3"], ["--managers needs --virtual-time"]),
        .init(["--virtual-time", "--kill-at", "20s"], ["--kill-at needs --managers"]),
        .init(["--virtual-time", "--rejoin-after", "20s"], ["--rejoin-after needs --managers"]),
        .init(["--virtual-time", "--managers", "3", "--kill-at", "9s"], ["--kill-at", "11s"]),
        .init(["--virtual-time", "--managers", "3", "--kill-at", "10.5s"], ["--kill-at", "11s"]),
        .init(["--virtual-time", "--lease-ttl", "10s"], ["--lease-ttl needs --managers"]),
        .init(["--virtual-time", "--managers", "3", "--duration", "30s", "--kill-at", "20s"], ["kill"]),
        .init(["--virtual-time", "--managers", "3", "--lease-ttl", "0.5s"], ["--lease-ttl", "1s...5m"]),
        .init(["--virtual-time", "--managers", "3", "--duration", "60s", "--rejoin-after", "12s"], ["rejoin"]),
        .init(["--virtual-time", "--managers", "3", "--churn", "5"], ["--churn", "--managers"]),
    ]

    @Test(arguments: placers) func benchPlacers(_ bad: RejectedInput) async throws {
        try await expectRejected("beacon", ["bench", "placers"] + bad.arguments, mentioning: bad.mentioning)
    }

    @Test(arguments: heartbeat) func benchHeartbeat(_ bad: RejectedInput) async throws {
        try await expectRejected("beacon", ["bench", "heartbeat"] + bad.arguments, mentioning: bad.mentioning)
    }

    @Test(arguments: diff) func benchDiff(_ bad: RejectedInput) async throws {
        try await expectRejected("beacon", ["bench", "diff"] + bad.arguments, mentioning: bad.mentioning)
    }

    @Test(arguments: placement) func benchPlacement(_ bad: RejectedInput) async throws {
        try await expectRejected("beacon", ["bench", "placement"] + bad.arguments, mentioning: bad.mentioning)
    }

    @Test(arguments: simulate) func simulateDispatcher(_ bad: RejectedInput) async throws {
        try await expectRejected("beacon", ["simulate", "dispatcher"] + bad.arguments, mentioning: bad.mentioning)
    }

    /// Each command's help shows the ranges its options accept.
    @Test(arguments: [
        (["bench", "placers"], ["3...1000000", "1024...100000000", "1...100"]),
        (["bench", "heartbeat"], ["10000...16000000", "100ms...10m", "1s...10m"]),
        (["bench", "diff"], ["0...16384", "1...1000"]),
        (["bench", "placement"], ["10...1000", "(0, 1.5]", "1...10000", "[0, 5]", "1ms...1h", "0s...1s"]),
        (["simulate", "dispatcher"], ["1...16777216", "30s...24h", "[0, 1]", "0...100000", "html"]),
    ])
    func helpShowsTheRanges(_ command: [String], _ ranges: [String]) async throws {
        let help = try await HelpText.of("beacon", command)
        for range in ranges { #expect(help.contains(range), "\(command.joined(separator: " ")) --help lacks \(range)") }
    }
}
