import Testing

@testable import BeaconCommandLine

@Suite struct DecimalParserTests {
    static let percent = DecimalRange(from: FixedDecimal(millionths: 0), through: FixedDecimal(whole: 100)!)
    static let weight = DecimalRange(above: FixedDecimal(millionths: 0), through: FixedDecimal(whole: 1_000_000)!)

    @Test(arguments: [("0", 0), ("100", 100_000_000), ("1.5", 1_500_000), ("0.000001", 1), ("99.999999", 99_999_999)])
    func accepts(_ text: String, _ millionths: UInt64) throws {
        #expect(try DecimalParser.parse(text, in: Self.percent) == FixedDecimal(millionths: millionths))
    }

    @Test(arguments: [
        (
            "100.000001",
            CommandLineValueError.outOfRange(
                "100.000001", expected: "a decimal number in [0, 100] with at most 6 decimal places")
        ),
        ("101", .outOfRange("101", expected: "a decimal number in [0, 100] with at most 6 decimal places")),
        ("-1", .malformed("-1", expected: "a decimal number in [0, 100] with at most 6 decimal places")),
        ("nan", .malformed("nan", expected: "a decimal number in [0, 100] with at most 6 decimal places")),
        ("inf", .malformed("inf", expected: "a decimal number in [0, 100] with at most 6 decimal places")),
        ("1e2", .malformed("1e2", expected: "a decimal number in [0, 100] with at most 6 decimal places")),
        ("5%", .malformed("5%", expected: "a decimal number in [0, 100] with at most 6 decimal places")),
        (
            "0.0000001",
            .tooPrecise(
                "0.0000001", resolution: "0.000001",
                expected: "a decimal number in [0, 100] with at most 6 decimal places")
        ),
        ("", .empty(expected: "a decimal number in [0, 100] with at most 6 decimal places")),
    ])
    func refuses(_ text: String, _ expected: CommandLineValueError) {
        #expect(throws: expected) { try DecimalParser.parse(text, in: Self.percent) }
    }

    /// An open lower bound: a weight of zero is refused, the smallest positive one accepted.
    @Test func openLowerBound() throws {
        #expect(
            throws: CommandLineValueError.outOfRange(
                "0", expected: "a decimal number in (0, 1000000] with at most 6 decimal places")
        ) {
            try DecimalParser.parse("0", in: Self.weight)
        }
        #expect(try DecimalParser.parse("0.000001", in: Self.weight) == FixedDecimal(millionths: 1))
    }

    /// Ranges and defaults written in code as literals are the values a user would type.
    @Test func literalsAreExactMillionths() throws {
        let literals: [(FixedDecimal, UInt64)] = [
            (0.95, 950_000), (0.1, 100_000), (1.5, 1_500_000), (100, 100_000_000), (0.000001, 1), (0, 0),
        ]
        for (literal, millionths) in literals {
            #expect(literal.millionths == millionths)
            #expect(try DecimalParser.parse(literal.description, in: DecimalRange(from: 0, through: 100)) == literal)
        }
        #expect(FixedDecimal(nearest: 0.01).description == "0.01")
    }
}
