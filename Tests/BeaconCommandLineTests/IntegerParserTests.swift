import Testing

@testable import BeaconCommandLine

@Suite struct IntegerParserTests {
    static let workers = 1...10_000_000

    @Test(arguments: [("1", 1), ("10000000", 10_000_000), ("0000042", 42)])
    func accepts(_ text: String, _ expected: Int) throws {
        #expect(try IntegerParser.parse(text, in: Self.workers) == expected)
    }

    @Test func acceptsTheWidestRange() throws {
        #expect(try IntegerParser.parse("9223372036854775807", in: 0...Int.max) == Int.max)
        #expect(try IntegerParser.parse("0", in: 0...Int.max) == 0)
    }

    /// The issue's `--workers 100000000000` and its neighbours: zero, one past the top, a number
    /// past every integer type, and the spellings of a count that is not one.
    @Test(arguments: [
        ("100000000000", CommandLineValueError.outOfRange("100000000000", expected: "a whole number in 1...10000000")),
        ("0", .outOfRange("0", expected: "a whole number in 1...10000000")),
        ("10000001", .outOfRange("10000001", expected: "a whole number in 1...10000000")),
        (
            "99999999999999999999999999",
            .outOfRange("99999999999999999999999999", expected: "a whole number in 1...10000000")
        ),
        ("-5", .malformed("-5", expected: "a whole number in 1...10000000")),
        ("+5", .malformed("+5", expected: "a whole number in 1...10000000")),
        ("5.0", .malformed("5.0", expected: "a whole number in 1...10000000")),
        ("1e3", .malformed("1e3", expected: "a whole number in 1...10000000")),
        (" 5", .malformed(" 5", expected: "a whole number in 1...10000000")),
        ("1_000", .malformed("1_000", expected: "a whole number in 1...10000000")),
        ("ten", .malformed("ten", expected: "a whole number in 1...10000000")),
        ("", .empty(expected: "a whole number in 1...10000000")),
    ])
    func refuses(_ text: String, _ expected: CommandLineValueError) {
        #expect(throws: expected) { try IntegerParser.parse(text, in: Self.workers) }
    }

    /// A range entirely below zero cannot be written: the syntax has no sign.
    @Test func aNegativeRangeAcceptsNothing() {
        #expect(throws: CommandLineValueError.outOfRange("1", expected: "a whole number in -10...-1")) {
            try IntegerParser.parse("1", in: -10...(-1))
        }
    }
}
