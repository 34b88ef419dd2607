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

    /// Every duration the syntax can express.
    package static var fullRange: ClosedRange<Duration> { .zero...maximum }

    /// The accepted syntax over the full range, for messages and help texts.
    package static let expected = expected(in: fullRange)

    /// The accepted syntax and `range`, for messages and help texts. It says outright that a
    /// duration has no sign, since `--duration=-1s` is the refusal users meet most.
    package static func expected(in range: ClosedRange<Duration>) -> String {
        "a duration from \(format(range.lowerBound)) to \(format(range.upperBound)): digits with an optional fraction "
            + "and one unit (ms, s, m, h), such as 500ms, 30s, 1.5m or 1h, with no sign (a duration is never negative)"
    }

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

    /// Parses `text` into a duration in `range`; every refusal names `range`.
    ///
    /// - Throws: the errors of ``parse(_:)``, and ``CommandLineValueError/outOfRange(_:expected:)``
    ///   for a duration outside `range`.
    package static func parse(_ text: some StringProtocol, in range: ClosedRange<Duration>) throws(CommandLineValueError) -> Duration {
        let expected = expected(in: range)
        let duration = Duration.milliseconds(Int64(try milliseconds(Substring(text), expected: expected)))
        guard range.contains(duration) else { throw .outOfRange(String(text), expected: expected) }
        return duration
    }

    /// Parses `text` into whole milliseconds, at most ``maximumMilliseconds``; a refusal says
    /// `expected`.
    package static func milliseconds(_ text: Substring, expected: String = expected) throws(CommandLineValueError) -> UInt64 {
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
