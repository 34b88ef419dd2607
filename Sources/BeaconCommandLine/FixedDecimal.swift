/// A non-negative decimal number with at most six decimal places, held exactly as a count of
/// millionths: what a command line's `0.95` or `1.5` means, without binary rounding, so range
/// checks are exact and writing a value out and reading it back gives the same value.
///
/// Written as a literal (`0.95`, `100`) where a tool declares an option's range or default.
package struct FixedDecimal: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByFloatLiteral,
    ExpressibleByIntegerLiteral
{
    /// The value times 1 000 000.
    package let millionths: UInt64

    /// Decimal places kept.
    package static let places = 6
    static let scale: UInt64 = 1_000_000

    package init(millionths: UInt64) { self.millionths = millionths }

    /// The value `whole + millionths / 1 000 000`; nil when it does not fit.
    package init?(whole: UInt64, millionths: UInt64 = 0) {
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: Self.scale)
        let (sum, carry) = scaled.addingReportingOverflow(millionths)
        guard !overflow, !carry else { return nil }
        self.millionths = sum
    }

    /// The nearest value to `value`, which must be finite, not negative and below 2^64
    /// millionths: a range or a default written in code, never a user's text (those go through
    /// ``DecimalParser``, which refuses rather than rounds).
    package init(nearest value: Double) {
        precondition(
            value >= 0 && value * Double(Self.scale) < 0x1p64, "FixedDecimal(nearest: \(value)) is out of range")
        self.millionths = UInt64((value * Double(Self.scale)).rounded())
    }

    package init(floatLiteral value: Double) { self.init(nearest: value) }

    package init(integerLiteral value: UInt64) {
        guard let value = FixedDecimal(whole: value) else {
            preconditionFailure("FixedDecimal(\(value)) is out of range")
        }
        self = value
    }

    /// The nearest `Double`: one correctly rounded division, so `0.95` gives the same `Double`
    /// as the literal `0.95` (exactly so up to 2^53 millionths, about 9 billion).
    package var doubleValue: Double { Double(millionths) / Double(Self.scale) }

    /// Plain decimal notation without an exponent or trailing zeros (`1.5`, `0.000001`, `12`),
    /// which ``CommaSeparatedList/decimals(_:in:)`` reads back to the same value.
    package var description: String {
        let whole = millionths / Self.scale
        let fraction = millionths % Self.scale
        guard fraction != 0 else { return "\(whole)" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: Self.places - digits.count) + digits
        while digits.last == "0" { digits.removeLast() }
        return "\(whole).\(digits)"
    }

    package static func < (lhs: FixedDecimal, rhs: FixedDecimal) -> Bool { lhs.millionths < rhs.millionths }
}
