import BeaconCore

/// The `CommandLineFuzz` libFuzzer target's logic. The first byte picks a mode and the ranges
/// the list parsers are asked for:
///
/// 0. **Arbitrary text**: the rest of the input, read as UTF-8, goes through every parser.
/// 1. **Structured text**: the rest is decoded into grammar pieces (``CommandLineFuzzText``):
///    digit runs, points, units, commas, signs, exponents, names, numbers at every limit.
/// 2. **Values**: durations, counts and decimals read from the bytes are formatted and parsed
///    back.
///
/// For each text, every parser must agree with ``CommandLineModel`` (a plain re-statement of the
/// rules) on whether it is accepted, on the value, and on the kind of refusal; every accepted
/// value must lie in its documented range; and formatting an accepted value and parsing the
/// result must give the same value. Nothing may trap.
///
/// It lives in the library (with `package` access) so unit tests replay the committed inputs
/// through the same code. Not for use outside Beacon's tests and fuzzers.
package enum CommandLineFuzzHarness {
    /// The integer ranges the list parser is checked with: the tools' own, and extremes.
    static let integerRanges: [ClosedRange<Int>] = [
        3...1_000_000, 1...1_000, 0...Int.max, -10...10, Int.min...(-1), 7...7,
    ]

    /// The decimal ranges: utilisation's, a closed one, the widest, a single value.
    static let decimalRanges: [DecimalRange] = [
        DecimalRange(above: FixedDecimal(millionths: 0), through: FixedDecimal(millionths: 1_500_000)),
        DecimalRange(from: FixedDecimal(millionths: 0), through: FixedDecimal(millionths: 1_000_000)),
        DecimalRange(above: FixedDecimal(millionths: 0), through: FixedDecimal(millionths: .max)),
        DecimalRange(from: FixedDecimal(millionths: 2_500_000), through: FixedDecimal(millionths: 2_500_000)),
    ]

    /// The ranges single durations are checked in: the tools' own (a TTL, a heartbeat interval,
    /// a run that may be zero), the widest, a single value.
    static let durationRanges: [ClosedRange<Duration>] = [
        .milliseconds(100)...(.seconds(86_400)), .milliseconds(1)...(.seconds(600)), .zero...(.seconds(3600)),
        .zero...DurationParser.maximum, .seconds(7)...(.seconds(7)),
    ]

    /// Names for the name-list parser; some are prefixes of others.
    static let knownNames = ["bounded-load", "bounded-load-requests", "maglev", "jump", "ring", "power-of-two"]

    /// Values in one input of the values mode.
    static let maximumValues = 64

    /// Runs one input; returns a description of the first broken property, or `nil`.
    package static func run(_ input: UnsafeRawBufferPointer) -> String? {
        var reader = FuzzByteReader(input)
        guard let mode = reader.next() else { return nil }
        let integerRange = integerRanges[Int(mode / 4) % integerRanges.count]
        let decimalRange = decimalRanges[Int(mode / 32) % decimalRanges.count]
        let durationRange = durationRanges[Int(mode / 8) % durationRanges.count]
        switch mode % 4 {
        case 0: return check(String(decoding: reader.rest(), as: UTF8.self), integerRange, decimalRange, durationRange)
        case 1, 2: return check(CommandLineFuzzText.build(&reader), integerRange, decimalRange, durationRange)
        default: return checkValues(&reader, integerRange, decimalRange)
        }
    }

    /// Every parser on `text`.
    static func check(
        _ text: String, _ integerRange: ClosedRange<Int>, _ decimalRange: DecimalRange,
        _ durationRange: ClosedRange<Duration>
    ) -> String? {
        checkDuration(text) ?? checkDuration(text, in: durationRange) ?? checkInteger(text, integerRange)
            ?? checkIntegers(text, integerRange) ?? checkDecimal(text, decimalRange) ?? checkDecimals(
                text, decimalRange)
            ?? checkNames(text) ?? checkElements(text)
    }

    /// `parse` is the parser under test: the real one, or in unit tests a broken one the check
    /// must catch.
    static func checkDuration(
        _ text: String,
        parse: (Substring) throws(CommandLineValueError) -> UInt64 = { text throws(CommandLineValueError) in
            try DurationParser.milliseconds(text)
        }
    ) -> String? {
        let parsed = verdict { () throws(CommandLineValueError) in try parse(Substring(text)) }
        let expected = CommandLineModel.duration(text)
        guard parsed == expected else { return "duration '\(text)': parsed \(parsed), the model says \(expected)" }
        guard case .accepted(let milliseconds) = parsed else { return nil }
        guard milliseconds <= DurationParser.maximumMilliseconds else {
            return "duration '\(text)' = \(milliseconds) ms is above the maximum"
        }
        let duration = Duration.milliseconds(Int64(milliseconds))
        guard (try? DurationParser.parse(text)) == duration else {
            return "duration '\(text)': parse disagrees with milliseconds"
        }
        return roundTrip(duration)
    }

    /// A duration option with its own range: the model's verdict, and an accepted value inside it.
    static func checkDuration(_ text: String, in range: ClosedRange<Duration>) -> String? {
        let parsed = verdict { () throws(CommandLineValueError) in try DurationParser.parse(text, in: range) }
        let expected = CommandLineModel.duration(text, in: range).map { Duration.milliseconds(Int64($0)) }
        guard parsed == expected else {
            return "duration '\(text)' in \(range): parsed \(parsed), the model says \(expected)"
        }
        return nil
    }

    /// Formatting `duration` gives a text the parser and the model read back as `duration`.
    static func roundTrip(_ duration: Duration) -> String? {
        let formatted = DurationParser.format(duration)
        guard (try? DurationParser.parse(formatted)) == duration else {
            return "duration \(duration) formats as '\(formatted)', which does not parse back to it"
        }
        guard case .accepted(let milliseconds) = CommandLineModel.duration(formatted),
            Duration.milliseconds(Int64(milliseconds)) == duration
        else { return "duration \(duration) formats as '\(formatted)', which the model reads differently" }
        return nil
    }

    static func checkInteger(_ text: String, _ range: ClosedRange<Int>) -> String? {
        let parsed = verdict { () throws(CommandLineValueError) in try IntegerParser.parse(text, in: range) }
        let expected = CommandLineModel.integer(Array(text.utf8), in: range)
        guard parsed == expected else {
            return "integer '\(text)' in \(range): parsed \(parsed), the model says \(expected)"
        }
        return nil
    }

    static func checkIntegers(_ text: String, _ range: ClosedRange<Int>) -> String? {
        let parsed = verdict { () throws(CommandLineValueError) in try CommaSeparatedList.integers(text, in: range) }
        let expected = CommandLineModel.integers(text, in: range)
        guard parsed == expected else {
            return "integers '\(text)' in \(range): parsed \(parsed), the model says \(expected)"
        }
        guard case .accepted(let values) = parsed else { return nil }
        return roundTrip(values, in: range)
    }

    static func roundTrip(_ values: [Int], in range: ClosedRange<Int>) -> String? {
        guard values.allSatisfy(range.contains) else { return "integers \(values) not all in \(range)" }
        let formatted = CommaSeparatedList.format(values)
        guard (try? CommaSeparatedList.integers(formatted, in: range)) == values else {
            return "integers \(values) format as '\(formatted)', which does not parse back to them"
        }
        return nil
    }

    static func checkDecimal(_ text: String, _ range: DecimalRange) -> String? {
        let parsed = verdict { () throws(CommandLineValueError) in try DecimalParser.parse(text, in: range).millionths }
        let expected = CommandLineModel.decimal(Array(text.utf8), in: range)
        guard parsed == expected else {
            return "decimal '\(text)' in \(range): parsed \(parsed), the model says \(expected)"
        }
        return nil
    }

    static func checkDecimals(_ text: String, _ range: DecimalRange) -> String? {
        let parsed = verdict { () throws(CommandLineValueError) in
            try CommaSeparatedList.decimals(text, in: range).map(\.millionths)
        }
        let expected = CommandLineModel.decimals(text, in: range)
        guard parsed == expected else {
            return "decimals '\(text)' in \(range): parsed \(parsed), the model says \(expected)"
        }
        guard case .accepted(let values) = parsed else { return nil }
        return roundTrip(values.map(FixedDecimal.init(millionths:)), in: range)
    }

    static func roundTrip(_ values: [FixedDecimal], in range: DecimalRange) -> String? {
        guard values.allSatisfy(range.contains) else { return "decimals \(values) not all in \(range)" }
        let formatted = CommaSeparatedList.format(values)
        guard (try? CommaSeparatedList.decimals(formatted, in: range)) == values else {
            return "decimals \(values) format as '\(formatted)', which does not parse back to them"
        }
        return nil
    }

    static func checkNames(_ text: String) -> String? {
        let parsed = verdict { () throws(CommandLineValueError) in try CommaSeparatedList.names(text, from: knownNames)
        }
        let expected = CommandLineModel.names(text, from: knownNames)
        guard parsed == expected else { return "names '\(text)': parsed \(parsed), the model says \(expected)" }
        guard case .accepted(let names) = parsed else { return nil }
        let formatted = CommaSeparatedList.format(names)
        guard (try? CommaSeparatedList.names(formatted, from: knownNames)) == names else {
            return "names \(names) format as '\(formatted)', which does not parse back to them"
        }
        return nil
    }

    static func checkElements(_ text: String) -> String? {
        let parsed = verdict { () throws(CommandLineValueError) in
            try CommaSeparatedList.elements(text, of: "items").map { Array($0.utf8) }
        }
        let expected = CommandLineModel.items(text)
        guard parsed == expected else { return "items '\(text)': parsed \(parsed), the model says \(expected)" }
        return nil
    }

    /// Values straight from the bytes: every one formats to text that parses back to it.
    static func checkValues(
        _ reader: inout FuzzByteReader, _ integerRange: ClosedRange<Int>, _ decimalRange: DecimalRange
    ) -> String? {
        var integers: [Int] = []
        var decimals: [FixedDecimal] = []
        for _ in 0..<maximumValues where !reader.isAtEnd {
            let word = reader.word()
            switch word % 3 {
            case 0:
                if let failure = roundTrip(.milliseconds(Int64(word / 3 % (DurationParser.maximumMilliseconds + 1)))) {
                    return failure
                }
            case 1:
                // The syntax has no sign: a range's negative part cannot be written.
                let value = integer(word / 3, in: integerRange)
                if value >= 0 { integers.append(value) }
            default:
                let span = decimalRange.upper.millionths - decimalRange.lower.millionths
                let value = FixedDecimal(millionths: decimalRange.lower.millionths + offset(word / 3, width: span))
                // An open lower bound is not itself in the range.
                if decimalRange.contains(value) { decimals.append(value) }
            }
        }
        if !integers.isEmpty, let failure = roundTrip(integers, in: integerRange) { return failure }
        if !decimals.isEmpty, let failure = roundTrip(decimals, in: decimalRange) { return failure }
        return nil
    }

    /// A value of `range` picked by `seed`.
    static func integer(_ seed: UInt64, in range: ClosedRange<Int>) -> Int {
        // The range's width in unsigned arithmetic, which holds even Int.min...Int.max.
        let width = UInt64(UInt(bitPattern: range.upperBound) &- UInt(bitPattern: range.lowerBound))
        return Int(bitPattern: UInt(bitPattern: range.lowerBound) &+ UInt(offset(seed, width: width)))
    }

    /// An offset in `0...width`: one of the four at either end two times in three, since that is
    /// where off-by-one errors live, otherwise anywhere.
    static func offset(_ seed: UInt64, width: UInt64) -> UInt64 {
        switch seed % 3 {
        case 0: return min(seed / 3 % 4, width)
        case 1: return width - min(seed / 3 % 4, width)
        default: return width == .max ? seed / 3 : seed / 3 % (width + 1)
        }
    }

    /// A parser's answer in the model's terms.
    static func verdict<Value: Equatable>(
        _ parse: () throws(CommandLineValueError) -> Value
    ) -> CommandLineModel.Verdict<Value> {
        do {
            return .accepted(try parse())
        } catch {
            switch error {
            case .empty: return .empty
            case .emptyElement(_, let position, _): return .emptyElement(position: position)
            case .malformed: return .malformed
            case .outOfRange: return .outOfRange
            case .tooPrecise: return .tooPrecise
            case .unknownName: return .unknownName
            }
        }
    }
}
