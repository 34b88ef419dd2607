import Testing

@testable import BeaconCommandLine

@Suite struct CommaSeparatedListTests {
    static let utilisation = DecimalRange(
        above: FixedDecimal(millionths: 0), through: FixedDecimal(millionths: 1_500_000))

    @Test func integers() throws {
        #expect(try CommaSeparatedList.integers("10,100,1000", in: 3...1_000_000) == [10, 100, 1000])
        #expect(try CommaSeparatedList.integers(" 10 ,\t100 ", in: 3...1_000_000) == [10, 100])
        #expect(try CommaSeparatedList.integers("3,1000000", in: 3...1_000_000) == [3, 1_000_000])
        #expect(try CommaSeparatedList.integers("10,10", in: 3...1_000_000) == [10, 10])
        #expect(try CommaSeparatedList.integers("9223372036854775807", in: 0...Int.max) == [Int.max])
    }

    @Test(arguments: [
        (
            "10,,100",
            CommandLineValueError.emptyElement(
                list: "10,,100", position: 2, expected: "a comma-separated list of whole numbers, each in 3...1000000")
        ),
        (
            "10,",
            .emptyElement(
                list: "10,", position: 2, expected: "a comma-separated list of whole numbers, each in 3...1000000")
        ),
        (
            ",10",
            .emptyElement(
                list: ",10", position: 1, expected: "a comma-separated list of whole numbers, each in 3...1000000")
        ),
        (
            "10, ,100",
            .emptyElement(
                list: "10, ,100", position: 2, expected: "a comma-separated list of whole numbers, each in 3...1000000")
        ),
        ("", .empty(expected: "a comma-separated list of whole numbers, each in 3...1000000")),
        ("  ", .empty(expected: "a comma-separated list of whole numbers, each in 3...1000000")),
        ("10.0", .malformed("10.0", expected: "a whole number in 3...1000000")),
        ("+10", .malformed("+10", expected: "a whole number in 3...1000000")),
        ("-10", .malformed("-10", expected: "a whole number in 3...1000000")),
        ("1e3", .malformed("1e3", expected: "a whole number in 3...1000000")),
        ("2", .outOfRange("2", expected: "a whole number in 3...1000000")),
        ("1000001", .outOfRange("1000001", expected: "a whole number in 3...1000000")),
        ("18446744073709551616", .outOfRange("18446744073709551616", expected: "a whole number in 3...1000000")),
    ])
    func refusesIntegers(_ text: String, _ expected: CommandLineValueError) {
        #expect(throws: expected) { try CommaSeparatedList.integers(text, in: 3...1_000_000) }
    }

    /// An empty item is reported even when an earlier one is malformed: the list is split first.
    @Test func emptyItemsAreReportedFirst() {
        #expect(
            throws: CommandLineValueError.emptyElement(
                list: "x,,1", position: 2, expected: "a comma-separated list of whole numbers, each in 0...9")
        ) {
            try CommaSeparatedList.integers("x,,1", in: 0...9)
        }
    }

    @Test func rangesBelowZeroAcceptNothing() throws {
        #expect(throws: CommandLineValueError.self) { try CommaSeparatedList.integers("0", in: Int.min...(-1)) }
        #expect(try CommaSeparatedList.integers("0,5", in: -10...10) == [0, 5])
    }

    @Test func decimals() throws {
        let values = try CommaSeparatedList.decimals("0.5,0.8,0.95,1.5,0.000001", in: Self.utilisation)
        #expect(values.map(\.millionths) == [500_000, 800_000, 950_000, 1_500_000, 1])
        #expect(values.map(\.doubleValue) == [0.5, 0.8, 0.95, 1.5, 0.000001])
        #expect(try CommaSeparatedList.decimals("1.5000000000", in: Self.utilisation).map(\.millionths) == [1_500_000])
    }

    @Test(arguments: ["0", "0.0", "1.500001", "2", "99999999999999999999999"])
    func refusesDecimalsOutOfRange(_ text: String) {
        #expect(
            throws: CommandLineValueError.outOfRange(
                text, expected: "a decimal number in (0, 1.5] with at most 6 decimal places")
        ) {
            try CommaSeparatedList.decimals(text, in: Self.utilisation)
        }
    }

    @Test(arguments: ["1e-1", "inf", "nan", "-0.5", "+0.5", ".5", "5.", "0,5.5.5", "0x1p-1", "0.5%"])
    func refusesMalformedDecimals(_ text: String) {
        #expect(throws: CommandLineValueError.self) { try CommaSeparatedList.decimals(text, in: Self.utilisation) }
    }

    @Test func refusesASeventhDecimalPlace() {
        #expect(
            throws: CommandLineValueError.tooPrecise(
                "0.0000001", resolution: "0.000001",
                expected: "a decimal number in (0, 1.5] with at most 6 decimal places")
        ) {
            try CommaSeparatedList.decimals("0.0000001", in: Self.utilisation)
        }
    }

    @Test func names() throws {
        let known = ["bounded-load", "bounded-load-requests", "maglev"]
        #expect(try CommaSeparatedList.names("bounded-load,maglev", from: known) == ["bounded-load", "maglev"])
        #expect(try CommaSeparatedList.names(" maglev ", from: known) == ["maglev"])
        #expect(throws: CommandLineValueError.unknownName("Maglev", known: known)) {
            try CommaSeparatedList.names("Maglev", from: known)
        }
        #expect(throws: CommandLineValueError.unknownName("bounded", known: known)) {
            try CommaSeparatedList.names("bounded", from: known)
        }
        #expect(throws: CommandLineValueError.self) { try CommaSeparatedList.names("maglev,,", from: known) }
        #expect(
            "\(CommandLineValueError.unknownName("x", known: known))"
                == "unknown name 'x'; known: bounded-load, bounded-load-requests, maglev")
    }

    @Test func elements() throws {
        #expect(
            try CommaSeparatedList.elements("http://a:2379, http://b:2379", of: "etcd client URLs") == [
                "http://a:2379", "http://b:2379",
            ])
        #expect(throws: CommandLineValueError.empty(expected: "a comma-separated list of etcd client URLs")) {
            try CommaSeparatedList.elements("", of: "etcd client URLs")
        }
        // The comma separates even when a combining accent follows it (one Character in Swift).
        #expect(try CommaSeparatedList.elements("a,\u{301}b", of: "items") == ["a", "\u{301}b"])
    }

    @Test func formatsBackToTheSameValues() throws {
        let decimals = [
            FixedDecimal(millionths: 1), FixedDecimal(millionths: 1_500_000), FixedDecimal(millionths: 12_000_000),
        ]
        #expect(CommaSeparatedList.format(decimals) == "0.000001,1.5,12")
        let everything = DecimalRange(from: FixedDecimal(millionths: 0), through: FixedDecimal(millionths: .max))
        #expect(try CommaSeparatedList.decimals(CommaSeparatedList.format(decimals), in: everything) == decimals)
        #expect(CommaSeparatedList.format([10, 100]) == "10,100")
        #expect("\(Self.utilisation)" == "(0, 1.5]")
        #expect(FixedDecimal(whole: .max) == nil)
        #expect(FixedDecimal(whole: 2, millionths: 5) == FixedDecimal(millionths: 2_000_005))
    }
}
