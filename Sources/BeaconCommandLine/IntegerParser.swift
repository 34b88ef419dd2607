/// Whole numbers on the command line: `--workers 10000`, `--max 2`, and each item of
/// ``CommaSeparatedList/integers(_:in:)``.
///
/// Digits only: no sign, point, exponent, blank or digit separator, so a count cannot be
/// written negative and `5.0` is not a count. Each option brings its own range, which bounds
/// what a run may allocate; the range appears in the option's help and in every refusal.
package enum IntegerParser {
    /// What an option in `range` accepts, for messages and help texts.
    package static func expected(in range: ClosedRange<Int>) -> String {
        "a whole number in \(range.lowerBound)...\(range.upperBound)"
    }

    /// Parses `text` (such as `10000`) into a number in `range`.
    ///
    /// - Throws: ``CommandLineValueError/empty(expected:)`` for an empty text,
    ///   ``CommandLineValueError/malformed(_:expected:)`` for anything but digits,
    ///   ``CommandLineValueError/outOfRange(_:expected:)`` outside `range`, however many digits
    ///   the text has.
    package static func parse(_ text: some StringProtocol, in range: ClosedRange<Int>) throws(CommandLineValueError)
        -> Int
    {
        let text = Substring(text)
        guard !text.isEmpty else { throw .empty(expected: expected(in: range)) }
        // A point is refused even when the fraction is zero: a count is written as a count.
        guard let numeral = DecimalNumeral(text.utf8), numeral.fraction.isEmpty else {
            throw .malformed(String(text), expected: expected(in: range))
        }
        guard range.upperBound >= 0,
            case .value(let value) = numeral.scaled(by: 1, limit: UInt64(range.upperBound)),
            Int(value) >= range.lowerBound
        else { throw .outOfRange(String(text), expected: expected(in: range)) }
        return Int(value)
    }
}
