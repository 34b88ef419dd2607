/// Plain re-statements of the command-line parsers' rules, for ``CommandLineFuzzHarness`` to
/// compare the real parsers against. Written independently of them: bytes are walked by hand,
/// numbers are computed exactly in `Int128` instead of step by step with overflow checks, and
/// lists are split with a loop instead of `split`.
enum CommandLineModel {
    /// What a parser should answer for one text.
    enum Verdict<Value: Equatable>: Equatable {
        case accepted(Value)
        case empty
        case emptyElement(position: Int)
        case malformed
        case outOfRange
        case tooPrecise
        case unknownName
    }

    static let comma = UInt8(ascii: ",")

    /// The items of a list, trimmed of spaces and tabs; or the list-level refusal.
    static func items(_ text: String) -> Verdict<[[UInt8]]> {
        var items: [[UInt8]] = []
        var current: [UInt8] = []
        for byte in text.utf8 {
            if byte == comma {
                items.append(trimmed(current))
                current = []
            } else {
                current.append(byte)
            }
        }
        items.append(trimmed(current))
        if items.count == 1 && items[0].isEmpty { return .empty }
        for (index, item) in items.enumerated() where item.isEmpty { return .emptyElement(position: index + 1) }
        return .accepted(items)
    }

    static func trimmed(_ bytes: [UInt8]) -> [UInt8] {
        func isBlank(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 }
        var start = 0
        var end = bytes.count
        while start < end && isBlank(bytes[start]) { start += 1 }
        while end > start && isBlank(bytes[end - 1]) { end -= 1 }
        return Array(bytes[start..<end])
    }

    /// A numeral `digits [. digits]` split into its two digit strings, or nil.
    static func numeral(_ bytes: [UInt8]) -> (whole: [UInt8], fraction: [UInt8], hasPoint: Bool)? {
        var whole: [UInt8] = []
        var fraction: [UInt8] = []
        var seenPoint = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") && !seenPoint {
                seenPoint = true
            } else if byte >= 48 && byte <= 57 {
                if seenPoint { fraction.append(byte) } else { whole.append(byte) }
            } else {
                return nil
            }
        }
        if whole.isEmpty || (seenPoint && fraction.isEmpty) { return nil }
        return (whole, fraction, seenPoint)
    }

    /// Digits as a number, or nil when it has more than 30 significant digits (then it is larger
    /// than any limit the parsers use).
    static func exact(_ digits: [UInt8]) -> Int128? {
        var significant = digits[...]
        while significant.first == 48 { significant = significant.dropFirst() }
        if significant.count > 30 { return nil }
        var value: Int128 = 0
        for digit in significant { value = value * 10 + Int128(digit - 48) }
        return value
    }

    /// `whole.fraction × multiplier` when it is a whole number: the outcome the parsers share.
    /// Order of refusals: a whole part already past the limit, then a fraction that leaves a
    /// remainder, then a total past the limit.
    static func scaled(whole: [UInt8], fraction: [UInt8], multiplier: Int128, limit: Int128) -> Verdict<Int128> {
        guard let wholeValue = exact(whole), wholeValue * multiplier <= limit else { return .outOfRange }
        var places = fraction
        while places.last == 48 { places.removeLast() }
        // Multipliers here are below 10^7 and the significant digits end in a non-zero digit, so
        // more than seven places can never come out whole.
        if places.count > 7 { return .tooPrecise }
        let numerator = exact(places) ?? 0
        var denominator: Int128 = 1
        for _ in places { denominator *= 10 }
        if (numerator * multiplier) % denominator != 0 { return .tooPrecise }
        let total = wholeValue * multiplier + numerator * multiplier / denominator
        return total <= limit ? .accepted(total) : .outOfRange
    }

    /// Milliseconds of a duration text.
    static func duration(_ text: String) -> Verdict<UInt64> {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return .empty }
        let unitLength: Int
        let multiplier: Int128
        if bytes.count >= 2 && bytes[bytes.count - 2] == UInt8(ascii: "m")
            && bytes[bytes.count - 1] == UInt8(ascii: "s")
        {
            (unitLength, multiplier) = (2, 1)
        } else if bytes.last == UInt8(ascii: "s") {
            (unitLength, multiplier) = (1, 1000)
        } else if bytes.last == UInt8(ascii: "m") {
            (unitLength, multiplier) = (1, 60 * 1000)
        } else if bytes.last == UInt8(ascii: "h") {
            (unitLength, multiplier) = (1, 60 * 60 * 1000)
        } else {
            return .malformed
        }
        guard let number = numeral(Array(bytes.dropLast(unitLength))) else { return .malformed }
        // 10^9 seconds.
        switch scaled(
            whole: number.whole, fraction: number.fraction, multiplier: multiplier, limit: 1_000_000_000 * 1000)
        {
        case .accepted(let milliseconds): return .accepted(UInt64(milliseconds))
        case .tooPrecise: return .tooPrecise
        default: return .outOfRange
        }
    }

    /// Milliseconds of a duration text that must also lie in `range`.
    static func duration(_ text: String, in range: ClosedRange<Duration>) -> Verdict<UInt64> {
        let verdict = duration(text)
        guard case .accepted(let milliseconds) = verdict else { return verdict }
        return range.contains(.milliseconds(Int64(milliseconds))) ? verdict : .outOfRange
    }

    /// One whole number: digits only.
    static func integer(_ bytes: [UInt8], in range: ClosedRange<Int>) -> Verdict<Int> {
        if bytes.isEmpty { return .empty }
        guard let number = numeral(bytes), !number.hasPoint else { return .malformed }
        guard let value = exact(number.whole), value >= Int128(range.lowerBound), value <= Int128(range.upperBound)
        else {
            return .outOfRange
        }
        return .accepted(Int(value))
    }

    static func integers(_ text: String, in range: ClosedRange<Int>) -> Verdict<[Int]> {
        let listed = items(text)
        guard case .accepted(let items) = listed else { return listed.refusal() }
        var values: [Int] = []
        for item in items {
            let verdict = integer(item, in: range)
            guard case .accepted(let value) = verdict else { return verdict.refusal() }
            values.append(value)
        }
        return .accepted(values)
    }

    /// One decimal number, in millionths.
    static func decimal(_ bytes: [UInt8], in range: DecimalRange) -> Verdict<UInt64> {
        if bytes.isEmpty { return .empty }
        guard let number = numeral(bytes) else { return .malformed }
        switch scaled(
            whole: number.whole, fraction: number.fraction, multiplier: 1_000_000, limit: Int128(range.upper.millionths)
        ) {
        case .accepted(let millionths):
            let lower = Int128(range.lower.millionths)
            guard range.includesLower ? millionths >= lower : millionths > lower else { return .outOfRange }
            return .accepted(UInt64(millionths))
        case .tooPrecise: return .tooPrecise
        default: return .outOfRange
        }
    }

    static func decimals(_ text: String, in range: DecimalRange) -> Verdict<[UInt64]> {
        let listed = items(text)
        guard case .accepted(let items) = listed else { return listed.refusal() }
        var values: [UInt64] = []
        for item in items {
            let verdict = decimal(item, in: range)
            guard case .accepted(let value) = verdict else { return verdict.refusal() }
            values.append(value)
        }
        return .accepted(values)
    }

    static func names(_ text: String, from known: [String]) -> Verdict<[String]> {
        let listed = items(text)
        guard case .accepted(let items) = listed else { return listed.refusal() }
        var names: [String] = []
        for item in items {
            guard let name = known.first(where: { Array($0.utf8) == item }) else { return .unknownName }
            names.append(name)
        }
        return .accepted(names)
    }
}

extension CommandLineModel.Verdict {
    /// The accepted value transformed, or the same refusal.
    func map<Other>(_ transform: (Value) -> Other) -> CommandLineModel.Verdict<Other> {
        guard case .accepted(let value) = self else { return refusal() }
        return .accepted(transform(value))
    }

    /// The same refusal for another value type; only called on refusals.
    func refusal<Other>() -> CommandLineModel.Verdict<Other> {
        switch self {
        case .accepted, .malformed: return .malformed
        case .empty: return .empty
        case .emptyElement(let position): return .emptyElement(position: position)
        case .outOfRange: return .outOfRange
        case .tooPrecise: return .tooPrecise
        case .unknownName: return .unknownName
        }
    }
}
