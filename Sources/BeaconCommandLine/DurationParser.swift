/// Durations on the command line: `500ms`, `30s`, `1.5m`, `1h`.
///
/// The syntax is a ``DecimalNumeral`` (digits with an optional fraction; no sign, no exponent)
/// followed directly by one unit: `ms`, `s`, `m` or `h`. Values are kept in whole milliseconds
/// from 0 to 1 000 000 000 seconds (about 31 years, far inside `Int64` milliseconds); a finer
/// value (`0.5ms`) or a larger one is refused, never rounded or wrapped.
package enum DurationParser {
    /// A unit suffix and its length in milliseconds.
    package struct Unit: Sendable {
        package let suffix: String
        package let milliseconds: UInt64
    }

    /// The units, smallest first. `ms` comes before `s` so that `500ms` is read as milliseconds
    /// and not as `500m` followed by a stray `s`.
    package static let units: [Unit] = [
        Unit(suffix: "ms", milliseconds: 1),
        Unit(suffix: "s", milliseconds: 1_000),
        Unit(suffix: "m", milliseconds: 60_000),
        Unit(suffix: "h", milliseconds: 3_600_000),
    ]

    /// The largest accepted duration, in milliseconds: 1 000 000 000 seconds.
    package static let maximumMilliseconds: UInt64 = 1_000_000_000_000

    /// The largest accepted duration.
    package static var maximum: Duration { .milliseconds(Int64(maximumMilliseconds)) }

    /// The accepted syntax and range, for messages and help texts.
    package static let expected =
        "a duration: digits with an optional fraction and one unit (ms, s, m, h), such as 500ms, 30s, 1.5m or 1h, "
        + "in whole milliseconds from 0ms to 1000000000s"

    /// Parses `text` (such as `30s`) into a duration.
    ///
    /// - Throws: ``CommandLineValueError/empty(expected:)`` for an empty text,
    ///   ``CommandLineValueError/malformed(_:expected:)`` for a sign, an exponent, a missing or
    ///   unknown unit or any stray character, ``CommandLineValueError/outOfRange(_:expected:)``
    ///   above ``maximum``, ``CommandLineValueError/tooPrecise(_:resolution:expected:)`` for a
    ///   fraction of a millisecond.
    package static func parse(_ text: some StringProtocol) throws(CommandLineValueError) -> Duration {
        .milliseconds(Int64(try milliseconds(Substring(text))))
    }

    /// Parses `text` into whole milliseconds, at most ``maximumMilliseconds``.
    package static func milliseconds(_ text: Substring) throws(CommandLineValueError) -> UInt64 {
        guard !text.isEmpty else { throw .empty(expected: expected) }
        let bytes = text.utf8
        // The first unit, in table order, that ends the text.
        guard let unit = units.first(where: { bytes.reversed().starts(with: $0.suffix.utf8.reversed()) }),
            let numeral = DecimalNumeral(bytes.dropLast(unit.suffix.utf8.count))
        else { throw .malformed(String(text), expected: expected) }
        switch numeral.scaled(by: unit.milliseconds, limit: maximumMilliseconds) {
        case .value(let milliseconds): return milliseconds
        case .tooLarge: throw .outOfRange(String(text), expected: expected)
        case .tooPrecise: throw .tooPrecise(String(text), resolution: "a millisecond", expected: expected)
        }
    }

    /// A duration in whole milliseconds from a number of seconds given as a floating-point
    /// option (`beacon-master-worker run --duration 2.5`), rounded to the nearest millisecond.
    ///
    /// - Throws: ``CommandLineValueError/outOfRange(_:expected:)`` for a negative, infinite,
    ///   NaN or too large number, which `Duration.seconds(_:)` would trap on.
    package static func duration(seconds: Double) throws(CommandLineValueError) -> Duration {
        let limit = Double(maximumMilliseconds / 1000)
        guard seconds.isFinite, seconds >= 0, seconds <= limit else {
            throw .outOfRange("\(seconds)", expected: "a number of seconds from 0 to \(maximumMilliseconds / 1000)")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// Writes `duration` in the syntax ``parse(_:)`` reads, as a whole number of the largest unit
    /// that divides it: 3 600 000 ms is `1h`, 90 000 ms is `90s`, 1 500 ms is `1500ms`, zero is
    /// `0s`. For every duration ``parse(_:)`` accepts, `parse(format(d)) == d`. A duration the
    /// parser would refuse (negative, or finer than a millisecond) is written in milliseconds,
    /// rounded toward zero.
    package static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        let (milliseconds, carry) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        // Only durations of some 292 million years overflow Int64 milliseconds: say them in seconds.
        guard !overflow, !carry else { return "\(seconds)s" }
        guard milliseconds > 0 else { return milliseconds == 0 ? "0s" : "\(milliseconds)ms" }
        let unit = units.last { UInt64(milliseconds) % $0.milliseconds == 0 } ?? units[0]
        return "\(UInt64(milliseconds) / unit.milliseconds)\(unit.suffix)"
    }
}
