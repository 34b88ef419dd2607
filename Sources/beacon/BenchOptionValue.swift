import ArgumentParser
import BeaconCommandLine

/// What the bench and simulate commands check beyond the shared ``OptionValue`` parsers: seeds
/// (the whole `UInt64` range), decimal ranges written as numbers, and lists without repeats.
enum BenchOptionValue {
    /// A random seed: any whole number a `UInt64` holds. Used as `@Option(transform:)`, so a
    /// refusal comes out as ArgumentParser's exit-64 error with the accepted range.
    static func seed(_ text: String) throws(CommandLineValueError) -> UInt64 {
        let expected = "a whole number in 0...\(UInt64.max)"
        if text.isEmpty { throw .empty(expected: expected) }
        // UInt64(_:) alone would also take a leading "+".
        guard text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw .malformed(text, expected: expected)
        }
        guard let value = UInt64(text) else { throw .outOfRange(text, expected: expected) }
        return value
    }

    /// `[lower, upper]` as a ``DecimalRange`` (ends with at most six decimal places).
    static func range(from lower: Double, through upper: Double) -> DecimalRange {
        DecimalRange(from: FixedDecimal(millionths: UInt64((lower * 1e6).rounded())), through: FixedDecimal(millionths: UInt64((upper * 1e6).rounded())))
    }

    /// `(lower, upper]` as a ``DecimalRange``.
    static func range(above lower: Double, through upper: Double) -> DecimalRange {
        DecimalRange(above: FixedDecimal(millionths: UInt64((lower * 1e6).rounded())), through: FixedDecimal(millionths: UInt64((upper * 1e6).rounded())))
    }

    /// Refuses a list that names one value twice (`--members 10,10`): the run would measure it
    /// twice and draw it as two points on top of each other.
    static func distinct<Value: Hashable & CustomStringConvertible>(_ values: [Value], option: String) throws(ValidationError) -> [Value] {
        var seen = Set<Value>()
        for value in values where !seen.insert(value).inserted {
            throw ValidationError("\(option): \(value) is listed twice; give each value once")
        }
        return values
    }
}
