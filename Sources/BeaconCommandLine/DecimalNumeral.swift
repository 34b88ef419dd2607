/// The one number syntax of Beacon's command line: ASCII digits with an optional fraction,
/// `digits [ "." digits ]`. No sign, exponent, digit separators, `inf` or `nan`: a value that
/// must not be negative cannot be written negative, and what a user types is exactly the value
/// used, never a binary floating-point approximation of it.
struct DecimalNumeral {
    /// The digits before the point; never empty.
    let whole: Substring.UTF8View
    /// The digits after the point; empty when there is no point.
    let fraction: Substring.UTF8View

    /// The numeral in `text`, or nil when `text` is not one.
    init?(_ text: Substring.UTF8View) {
        let point = text.firstIndex(of: UInt8(ascii: "."))
        let whole = text[..<(point ?? text.endIndex)]
        let fraction = point.map { text[text.index(after: $0)...] } ?? text[text.endIndex...]
        // "5." and ".5" are refused: a point always has digits on both sides.
        guard !whole.isEmpty, point == nil || !fraction.isEmpty,
            whole.allSatisfy(Self.isDigit), fraction.allSatisfy(Self.isDigit)
        else { return nil }
        self.whole = whole
        self.fraction = fraction
    }

    static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    /// The result of scaling a numeral to a whole number of some small unit.
    enum Scaled: Equatable {
        case value(UInt64)
        /// The value times the multiplier is not a whole number.
        case tooPrecise
        /// The value times the multiplier exceeds the limit.
        case tooLarge
    }

    /// Most significant fraction digits read: the fraction must fit `UInt64` below `10^19`.
    /// The parsers' multipliers (at most 3 600 000) make anything past seven places fractional
    /// anyway, so the cap never changes what is accepted.
    static let maximumFractionDigits = 19

    /// Exactly `value × multiplier`, when that is a whole number no larger than `limit`.
    ///
    /// Computed in integers, digit by digit, with every step checked for overflow, so a numeral
    /// of any length is answered without trapping or rounding.
    func scaled(by multiplier: UInt64, limit: UInt64) -> Scaled {
        var wholeValue: UInt64 = 0
        for digit in whole {
            let (tens, overflow) = wholeValue.multipliedReportingOverflow(by: 10)
            let (next, carry) = tens.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            guard !overflow, !carry else { return .tooLarge }
            wholeValue = next
        }
        let (scaledWhole, overflow) = wholeValue.multipliedReportingOverflow(by: multiplier)
        guard !overflow, scaledWhole <= limit else { return .tooLarge }

        // Trailing zeros add nothing: "1.500h" is "1.5h".
        var significant = fraction
        while significant.last == UInt8(ascii: "0") { significant = significant.dropLast() }
        guard significant.count <= Self.maximumFractionDigits else { return .tooPrecise }
        var numerator: UInt64 = 0
        var denominator: UInt64 = 1
        for digit in significant {
            numerator = numerator * 10 + UInt64(digit - UInt8(ascii: "0"))
            denominator *= 10
        }
        // numerator < denominator, so the quotient is below the multiplier and cannot overflow.
        let (quotient, remainder) = denominator.dividingFullWidth(multiplier.multipliedFullWidth(by: numerator))
        guard remainder == 0 else { return .tooPrecise }
        let (total, carry) = scaledWhole.addingReportingOverflow(quotient)
        guard !carry, total <= limit else { return .tooLarge }
        return .value(total)
    }
}
