/// Comma-separated lists on the command line: `--members 10,100,1000`, `--only bounded-load,maglev`,
/// `--utilisation 0.5,0.95`, `--etcd http://a:2379,http://b:2379`.
///
/// A list is split at every comma (U+002C; the text is read as UTF-8, so a comma followed by a
/// combining mark still separates) and each item is trimmed of spaces and tabs. An empty list
/// and an empty item (`10,,100`, `10,`, `,10`, `10, ,100`) are refused: they are typos, and
/// dropping them silently would run something other than what was asked.
package enum CommaSeparatedList {
    /// The trimmed items of `text`, in order; `items` names them in messages ("etcd client URLs").
    ///
    /// - Throws: ``CommandLineValueError/empty(expected:)`` for an empty or blank text,
    ///   ``CommandLineValueError/emptyElement(list:position:expected:)`` for an empty item.
    package static func elements(_ text: some StringProtocol, of items: String) throws(CommandLineValueError) -> [Substring] {
        try split(Substring(text), expected: "a comma-separated list of \(items)")
    }

    /// Whole numbers in `range`: digits only, no sign, point or exponent (so the negative part
    /// of a range is never reached).
    ///
    /// - Throws: the errors of ``elements(_:of:)``, ``CommandLineValueError/malformed(_:expected:)``
    ///   for an item that is not digits, ``CommandLineValueError/outOfRange(_:expected:)`` for one
    ///   outside `range`, however many digits it has.
    package static func integers(_ text: some StringProtocol, in range: ClosedRange<Int>) throws(CommandLineValueError) -> [Int] {
        let item = "a whole number in \(range.lowerBound)...\(range.upperBound)"
        let expected = "a comma-separated list of whole numbers, each in \(range.lowerBound)...\(range.upperBound)"
        var values: [Int] = []
        for element in try split(Substring(text), expected: expected) {
            // A point is refused even when the fraction is zero: a count is written as a count.
            guard let numeral = DecimalNumeral(element.utf8), numeral.fraction.isEmpty else {
                throw .malformed(String(element), expected: item)
            }
            guard range.upperBound >= 0,
                case .value(let value) = numeral.scaled(by: 1, limit: UInt64(range.upperBound)),
                Int(value) >= range.lowerBound
            else { throw .outOfRange(String(element), expected: item) }
            values.append(Int(value))
        }
        return values
    }

    /// Decimal numbers in `range` with at most ``FixedDecimal/places`` decimal places:
    /// digits with an optional fraction, no sign, exponent, `inf` or `nan`.
    ///
    /// - Throws: the errors of ``elements(_:of:)``, ``CommandLineValueError/malformed(_:expected:)``,
    ///   ``CommandLineValueError/outOfRange(_:expected:)``, and
    ///   ``CommandLineValueError/tooPrecise(_:resolution:expected:)`` for a seventh decimal place.
    package static func decimals(_ text: some StringProtocol, in range: DecimalRange) throws(CommandLineValueError) -> [FixedDecimal] {
        let item = "a decimal number in \(range) with at most \(FixedDecimal.places) decimal places"
        let expected = "a comma-separated list of decimal numbers, each in \(range) with at most \(FixedDecimal.places) decimal places"
        var values: [FixedDecimal] = []
        for element in try split(Substring(text), expected: expected) {
            guard let numeral = DecimalNumeral(element.utf8) else { throw .malformed(String(element), expected: item) }
            switch numeral.scaled(by: FixedDecimal.scale, limit: range.upper.millionths) {
            case .value(let millionths) where range.contains(FixedDecimal(millionths: millionths)):
                values.append(FixedDecimal(millionths: millionths))
            case .value, .tooLarge:
                throw .outOfRange(String(element), expected: item)
            case .tooPrecise:
                throw .tooPrecise(String(element), resolution: "\(FixedDecimal(millionths: 1))", expected: item)
            }
        }
        return values
    }

    /// Names from `known`, compared byte for byte (no case folding or Unicode equivalence), in
    /// the order given; a name may repeat.
    ///
    /// - Throws: the errors of ``elements(_:of:)`` and ``CommandLineValueError/unknownName(_:known:)``.
    package static func names(_ text: some StringProtocol, from known: [String]) throws(CommandLineValueError) -> [String] {
        var names: [String] = []
        for element in try split(Substring(text), expected: "a comma-separated list of names from: \(known.joined(separator: ", "))") {
            guard let name = known.first(where: { $0.utf8.elementsEqual(element.utf8) }) else {
                throw .unknownName(String(element), known: known)
            }
            names.append(name)
        }
        return names
    }

    /// `items` written as a list these parsers read back: their descriptions joined by commas.
    package static func format(_ items: [some CustomStringConvertible]) -> String {
        items.map(\.description).joined(separator: ",")
    }

    private static func split(_ text: Substring, expected: String) throws(CommandLineValueError) -> [Substring] {
        let pieces = text.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        var items: [Substring] = []
        items.reserveCapacity(pieces.count)
        for piece in pieces {
            var item = piece
            while let first = item.first, isBlank(first) { item = item.dropFirst() }
            while let last = item.last, isBlank(last) { item = item.dropLast() }
            items.append(Substring(item))
        }
        if items.count == 1, items[0].isEmpty { throw .empty(expected: expected) }
        if let empty = items.firstIndex(where: \.isEmpty) {
            throw .emptyElement(list: String(text), position: empty + 1, expected: expected)
        }
        return items
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
}
