/// The values a decimal option accepts: from a lower bound (included or not) up to and
/// including an upper bound, such as utilisation's `(0, 1.5]`.
package struct DecimalRange: Hashable, Sendable, CustomStringConvertible {
    package let lower: FixedDecimal
    package let includesLower: Bool
    package let upper: FixedDecimal

    /// Values above `lower` up to and including `upper`: `(lower, upper]`.
    package init(above lower: FixedDecimal, through upper: FixedDecimal) {
        self.lower = lower
        self.includesLower = false
        self.upper = upper
    }

    /// Values from `lower` up to `upper`, both included: `[lower, upper]`.
    package init(from lower: FixedDecimal, through upper: FixedDecimal) {
        self.lower = lower
        self.includesLower = true
        self.upper = upper
    }

    package func contains(_ value: FixedDecimal) -> Bool {
        (includesLower ? value >= lower : value > lower) && value <= upper
    }

    /// Interval notation: `(0, 1.5]`, `[0, 1]`.
    package var description: String { "\(includesLower ? "[" : "(")\(lower), \(upper)]" }
}
