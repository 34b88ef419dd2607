import Testing

@testable import BeaconCommandLine

@Suite struct DurationParserTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)), ("30s", .seconds(30)), ("5m", .seconds(300)), ("1h", .seconds(3600)),
        ("1.5h", .seconds(5400)), ("0.5s", .milliseconds(500)), ("1.500h", .seconds(5400)), ("007s", .seconds(7)),
        ("0s", .zero), ("0ms", .zero), ("0.001s", .milliseconds(1)), ("1000000000s", .seconds(1_000_000_000)),
        ("1000000000000ms", .seconds(1_000_000_000)), ("16666666m", .seconds(999_999_960)),
    ])
    func accepts(_ text: String, _ expected: Duration) throws {
        #expect(try DurationParser.parse(text) == expected)
    }

    /// The three refusals the tools' users hit most, each with a message naming the syntax and range.
    @Test(arguments: ["-5s", "5", "1000000001s"])
    func refusalsNameTheSyntaxAndRange(_ text: String) {
        #expect {
            try DurationParser.parse(text)
        } throws: { error in
            let message = "\(error)"
            return message.contains("'\(text)'") && message.contains("(ms, s, m, h)")
                && message.contains("from 0s to 1000000000s") && message.contains("no sign")
        }
    }

    @Test(arguments: [
        ("-5s", CommandLineValueError.malformed("-5s", expected: DurationParser.expected)),
        ("5", .malformed("5", expected: DurationParser.expected)),
        ("", .empty(expected: DurationParser.expected)),
        ("1000000001s", .outOfRange("1000000001s", expected: DurationParser.expected)),
        ("1000000000.001s", .outOfRange("1000000000.001s", expected: DurationParser.expected)),
        ("16666667m", .outOfRange("16666667m", expected: DurationParser.expected)),
        ("99999999999999999999999999h", .outOfRange("99999999999999999999999999h", expected: DurationParser.expected)),
        ("0.5ms", .tooPrecise("0.5ms", resolution: "a millisecond", expected: DurationParser.expected)),
        ("1.0001s", .tooPrecise("1.0001s", resolution: "a millisecond", expected: DurationParser.expected)),
    ])
    func refuses(_ text: String, _ expected: CommandLineValueError) {
        #expect(throws: expected) { try DurationParser.parse(text) }
    }

    /// Spellings other parsers take but this one does not, so a typo never becomes a surprise value.
    @Test(arguments: [
        "+5s", " 5s", "5s ", "5 s", "5S", "5sec", "5us", "1e3s", "1E3s", "infs", "inf", "nans", "0x10s", "5.s", ".5s",
        "5..5s", "1_000s", "5ｍｓ", "٥s", "5mss", "ms", "s", "5hm",
    ])
    func refusesOtherSpellings(_ text: String) {
        #expect(throws: CommandLineValueError.self) { try DurationParser.parse(text) }
    }

    @Test(arguments: [
        (Duration.seconds(3600), "1h"), (.seconds(90), "90s"), (.seconds(120), "2m"), (.milliseconds(1500), "1500ms"),
        (.zero, "0s"), (.milliseconds(-5), "-5ms"), (.seconds(1_000_000_000), "1000000000s"),
        (.microseconds(200), "0.2ms"), (.microseconds(1_500), "1.5ms"), (.microseconds(1), "0.001ms"),
        (.microseconds(1_000_250), "1000.25ms"), (.nanoseconds(1_500), "0.001ms"),
    ])
    func formats(_ duration: Duration, _ text: String) {
        #expect(DurationParser.format(duration) == text)
    }

    /// Durations far past the parser's range still format, without trapping.
    @Test func formatsHugeDurations() {
        #expect(DurationParser.format(.seconds(Int64.max)) == "\(Int64.max)s")
        #expect(DurationParser.format(.seconds(Int64.min)) == "\(Int64.min)s")
    }

    static let ttl = Duration.milliseconds(100)...(.seconds(86_400))

    @Test(arguments: [
        ("100ms", Duration.milliseconds(100)), ("0.1s", .milliseconds(100)), ("24h", .seconds(86_400)),
        ("1440m", .seconds(86_400)),
    ])
    func acceptsInItsRange(_ text: String, _ expected: Duration) throws {
        #expect(try DurationParser.parse(text, in: Self.ttl) == expected)
    }

    /// Below, above, far above, negative, without a unit: each refusal names the option's own
    /// range, the syntax, and that a duration has no sign.
    @Test(arguments: [
        ("99ms", "outOfRange"), ("0s", "outOfRange"), ("24.001h", "outOfRange"), ("86401s", "outOfRange"),
        ("99999999999h", "outOfRange"), ("-1s", "malformed"), ("30", "malformed"), ("", "empty"),
        ("0.1ms", "tooPrecise"),
    ])
    func refusesOutsideItsRange(_ text: String, _ kind: String) {
        let expected = DurationParser.expected(in: Self.ttl)
        let error: CommandLineValueError =
            switch kind {
            case "outOfRange": .outOfRange(text, expected: expected)
            case "malformed": .malformed(text, expected: expected)
            case "empty": .empty(expected: expected)
            default: .tooPrecise(text, resolution: "a millisecond", expected: expected)
            }
        #expect(throws: error) { try DurationParser.parse(text, in: Self.ttl) }
        #expect(
            expected.contains("from 100ms to 24h") && expected.contains("(ms, s, m, h)") && expected.contains("no sign")
        )
    }

    static let costs = Duration.zero...(.seconds(1))

    /// An option that counts microseconds takes the same syntax, with three more decimals.
    @Test(arguments: [
        ("0.2ms", Duration.microseconds(200)), ("0.001ms", .microseconds(1)), ("0.0002s", .microseconds(200)),
        ("1s", .seconds(1)), ("0ms", .zero), ("999.999ms", .microseconds(999_999)),
    ])
    func acceptsMicrosecondsWhereAsked(_ text: String, _ expected: Duration) throws {
        let parsed = try DurationParser.parse(text, in: Self.costs, resolution: .microsecond)
        #expect(parsed == expected)
        #expect(
            try DurationParser.parse(DurationParser.format(parsed), in: Self.costs, resolution: .microsecond) == parsed)
    }

    @Test(arguments: [
        ("0.0005ms", "tooPrecise"), ("1.0000001s", "tooPrecise"), ("1.001s", "outOfRange"), ("-0.2ms", "malformed"),
        ("200us", "malformed"), ("200", "malformed"),
    ])
    func refusesBeyondMicroseconds(_ text: String, _ kind: String) {
        let expected = DurationParser.expected(in: Self.costs)
        let error: CommandLineValueError =
            switch kind {
            case "outOfRange": .outOfRange(text, expected: expected)
            case "malformed": .malformed(text, expected: expected)
            default: .tooPrecise(text, resolution: "a microsecond", expected: expected)
            }
        #expect(throws: error) { try DurationParser.parse(text, in: Self.costs, resolution: .microsecond) }
    }

    /// The default resolution still refuses what only a microsecond option takes.
    @Test func millisecondsStayTheDefault() {
        #expect(
            throws: CommandLineValueError.tooPrecise(
                "0.2ms", resolution: "a millisecond", expected: DurationParser.expected(in: Self.costs))
        ) {
            try DurationParser.parse("0.2ms", in: Self.costs)
        }
    }
}
