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
    package static func elements(_ text: some StringProtocol, of items: String) throws(CommandLineValueError)
        -> [Substring]
    {
        try split(Substring(text), expected: "a comma-separated list of \(items)")
    }

    /// Whole numbers in `range`, each read by ``IntegerParser``: digits only, no sign, point or
    /// exponent (so the negative part of a range is never reached).
    ///
    /// - Throws: the errors of ``elements(_:of:)`` and of ``IntegerParser/parse(_:in:)``.
    package static func integers(_ text: some StringProtocol, in range: ClosedRange<Int>) throws(CommandLineValueError)
        -> [Int]
    {
        let expected = "a comma-separated list of whole numbers, each in \(range.lowerBound)...\(range.upperBound)"
        var values: [Int] = []
        for element in try split(Substring(text), expected: expected) {
            values.append(try IntegerParser.parse(element, in: range))
        }
        return values
    }

    /// Decimal numbers in `range`, each read by ``DecimalParser``: at most
    /// ``FixedDecimal/places`` decimal places, no sign, exponent, `inf` or `nan`.
    ///
    /// - Throws: the errors of ``elements(_:of:)`` and of ``DecimalParser/parse(_:in:)``.
    package static func decimals(_ text: some StringProtocol, in range: DecimalRange) throws(CommandLineValueError)
        -> [FixedDecimal]
    {
        let expected =
            "a comma-separated list of decimal numbers, each in \(range) with at most \(FixedDecimal.places) decimal places"
        var values: [FixedDecimal] = []
        for element in try split(Substring(text), expected: expected) {
            values.append(try DecimalParser.parse(element, in: range))
        }
        return values
    }

    /// Names from `known`, compared byte for byte (no case folding or Unicode equivalence), in
    /// the order given; a name may repeat.
    ///
    /// - Throws: the errors of ``elements(_:of:)`` and ``CommandLineValueError/unknownName(_:known:)``.
    package static func names(_ text: some StringProtocol, from known: [String]) throws(CommandLineValueError)
        -> [String]
    {
        var names: [String] = []
        for element in try split(
            Substring(text), expected: "a comma-separated list of names from: \(known.joined(separator: ", "))")
        {
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
