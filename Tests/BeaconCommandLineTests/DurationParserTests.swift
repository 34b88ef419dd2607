@testable import BeaconCommandLine
import Testing

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
            return message.contains("'\(text)'") && message.contains("(ms, s, m, h)") && message.contains("from 0ms to 1000000000s")
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
    ])
    func formats(_ duration: Duration, _ text: String) {
        #expect(DurationParser.format(duration) == text)
    }

    /// Durations far past the parser's range still format, without trapping.
    @Test func formatsHugeDurations() {
        #expect(DurationParser.format(.seconds(Int64.max)) == "\(Int64.max)s")
        #expect(DurationParser.format(.seconds(Int64.min)) == "\(Int64.min)s")
    }

    @Test func secondsFromAFloatingPointOption() throws {
        #expect(try DurationParser.duration(seconds: 2.5) == .milliseconds(2500))
        #expect(try DurationParser.duration(seconds: 0.0004) == .zero)
        #expect(try DurationParser.duration(seconds: -0.0) == .zero)
        #expect(try DurationParser.duration(seconds: 1e9) == .seconds(1_000_000_000))
        for refused in [Double.infinity, -.infinity, .nan, -1, 1e9 + 1, 1e300] {
            #expect(throws: CommandLineValueError.self) { try DurationParser.duration(seconds: refused) }
        }
    }
}
