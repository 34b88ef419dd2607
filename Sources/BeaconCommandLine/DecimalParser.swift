/// Decimal numbers on the command line: `--weight 2.5`, `--stopped-percent 1`, and each item of
/// ``CommaSeparatedList/decimals(_:in:)``.
///
/// A ``DecimalNumeral`` (digits with an optional fraction; no sign, exponent, `inf` or `nan`)
/// with at most ``FixedDecimal/places`` decimal places, held exactly as a ``FixedDecimal`` so
/// the range check is exact.
package enum DecimalParser {
    /// What an option in `range` accepts, for messages and help texts.
    package static func expected(in range: DecimalRange) -> String {
        "a decimal number in \(range) with at most \(FixedDecimal.places) decimal places"
    }

    /// Parses `text` (such as `0.95`) into a number in `range`.
    ///
    /// - Throws: ``CommandLineValueError/empty(expected:)`` for an empty text,
    ///   ``CommandLineValueError/malformed(_:expected:)`` for anything but a numeral,
    ///   ``CommandLineValueError/outOfRange(_:expected:)`` outside `range`, and
    ///   ``CommandLineValueError/tooPrecise(_:resolution:expected:)`` for a seventh decimal place.
    package static func parse(_ text: some StringProtocol, in range: DecimalRange) throws(CommandLineValueError)
        -> FixedDecimal
    {
        let text = Substring(text)
        guard !text.isEmpty else { throw .empty(expected: expected(in: range)) }
        guard let numeral = DecimalNumeral(text.utf8) else {
            throw .malformed(String(text), expected: expected(in: range))
        }
        switch numeral.scaled(by: FixedDecimal.scale, limit: range.upper.millionths) {
        case .value(let millionths) where range.contains(FixedDecimal(millionths: millionths)):
            return FixedDecimal(millionths: millionths)
        case .value, .tooLarge:
            throw .outOfRange(String(text), expected: expected(in: range))
        case .tooPrecise:
            throw .tooPrecise(String(text), resolution: "\(FixedDecimal(millionths: 1))", expected: expected(in: range))
        }
    }
}
