/// The natural logarithm, computed with plain IEEE-754 arithmetic.
///
/// Weighted rendezvous needs `ln`, and placement must give the same answer on every machine.
/// The C library's `log` may differ in the last bit between platforms and library versions,
/// which could flip a close rendezvous race; this one is a fixed sequence of correctly rounded
/// operations, so every platform computes the same bits. Accuracy is about 1 ulp on (0, ∞).
@usableFromInline
package enum NaturalLogarithm {
    @usableFromInline static let ln2 = 0.693_147_180_559_945_3

    /// `ln(x)` for finite `x > 0`.
    @inlinable
    package static func of(_ x: Double) -> Double {
        // x = m · 2^e with m in [√½, √2), so z = (m − 1)/(m + 1) is small and
        // ln m = 2·atanh z = 2(z + z³/3 + z⁵/5 + …) converges quickly.
        var exponent = Double(x.exponent)
        var m = x.significand
        if m > 1.414_213_562_373_095 {
            m *= 0.5
            exponent += 1
        }
        let z = (m - 1) / (m + 1)
        let z2 = z * z
        var series = 1.0 / 23
        series = series * z2 + 1.0 / 21
        series = series * z2 + 1.0 / 19
        series = series * z2 + 1.0 / 17
        series = series * z2 + 1.0 / 15
        series = series * z2 + 1.0 / 13
        series = series * z2 + 1.0 / 11
        series = series * z2 + 1.0 / 9
        series = series * z2 + 1.0 / 7
        series = series * z2 + 1.0 / 5
        series = series * z2 + 1.0 / 3
        series = series * z2 + 1
        return exponent * ln2 + 2 * z * series
    }
}
