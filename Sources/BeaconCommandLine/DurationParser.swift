/// Durations on the command line: `500ms`, `30s`, `1.5m`, `1h`.
///
/// The syntax is a ``DecimalNumeral`` (digits with an optional fraction; no sign, no exponent)
/// followed directly by one unit: `ms`, `s`, `m` or `h`. Values are kept in whole milliseconds
/// (or, for an option that asks for it, whole microseconds: `0.2ms`) from 0 to 1 000 000 000
/// seconds (about 31 years, far inside `Int64` microseconds); a finer value (`0.5ms`) or a
/// larger one is refused, never rounded or wrapped.
package enum DurationParser {
    /// The finest step an option takes: the syntax is the same, only how many fraction digits
    /// count differs. Most options want milliseconds; a cost of a fraction of a millisecond
    /// (`--attempt-cost 0.2ms`) wants microseconds.
    package enum Resolution: Sendable {
        case millisecond, microsecond

        /// Steps in a millisecond.
        var perMillisecond: UInt64 { self == .millisecond ? 1 : 1_000 }

        /// The step, as refusals name it.
        var name: String { self == .millisecond ? "a millisecond" : "a microsecond" }

        func duration(_ steps: UInt64) -> Duration {
            self == .millisecond ? .milliseconds(Int64(steps)) : .microseconds(Int64(steps))
        }
    }

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

    /// Parses `text` into a duration in `range`, in whole steps of `resolution`; every refusal
    /// names `range`.
    ///
    /// - Throws: the errors of ``parse(_:)`` (``CommandLineValueError/tooPrecise(_:resolution:expected:)``
    ///   below `resolution`), and ``CommandLineValueError/outOfRange(_:expected:)`` for a
    ///   duration outside `range`.
    package static func parse(
        _ text: some StringProtocol, in range: ClosedRange<Duration>, resolution: Resolution = .millisecond
    ) throws(CommandLineValueError) -> Duration {
        let expected = expected(in: range)
        let duration = resolution.duration(try steps(Substring(text), of: resolution, expected: expected))
        guard range.contains(duration) else { throw .outOfRange(String(text), expected: expected) }
        return duration
    }

    /// Parses `text` into whole milliseconds, at most ``maximumMilliseconds``; a refusal says
    /// `expected`.
    package static func milliseconds(_ text: Substring, expected: String = expected) throws(CommandLineValueError)
        -> UInt64
    {
        try steps(text, of: .millisecond, expected: expected)
    }

    /// Parses `text` into whole steps of `resolution`, at most ``maximumMilliseconds`` in all.
    private static func steps(_ text: Substring, of resolution: Resolution, expected: String)
        throws(CommandLineValueError) -> UInt64
    {
        guard !text.isEmpty else { throw .empty(expected: expected) }
        let bytes = text.utf8
        // The first unit, in table order, that ends the text.
        guard let unit = units.first(where: { bytes.reversed().starts(with: $0.suffix.utf8.reversed()) }),
            let numeral = DecimalNumeral(bytes.dropLast(unit.suffix.utf8.count))
        else { throw .malformed(String(text), expected: expected) }
        switch numeral.scaled(
            by: unit.milliseconds * resolution.perMillisecond, limit: maximumMilliseconds * resolution.perMillisecond)
        {
        case .value(let steps): return steps
        case .tooLarge: throw .outOfRange(String(text), expected: expected)
        case .tooPrecise: throw .tooPrecise(String(text), resolution: resolution.name, expected: expected)
        }
    }

    /// Writes `duration` in the syntax ``parse(_:)`` reads, as a whole number of the largest unit
    /// that divides it: 3 600 000 ms is `1h`, 90 000 ms is `90s`, 1 500 ms is `1500ms`, zero is
    /// `0s`; a fraction of a millisecond is written in milliseconds with up to three decimals
    /// (200 µs is `0.2ms`). For every duration ``parse(_:in:resolution:)`` accepts,
    /// `parse(format(d), in: range, resolution: r) == d`. A negative duration is written in
    /// milliseconds, and anything finer than a microsecond is dropped (rounded toward zero).
    package static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        let (microseconds, carry) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000_000)
        // Only durations of some 292 thousand years overflow Int64 microseconds: say them in seconds.
        guard !overflow, !carry else { return "\(seconds)s" }
        let milliseconds = microseconds / 1000
        guard microseconds > 0 else { return milliseconds == 0 ? "0s" : "\(milliseconds)ms" }
        let fraction = microseconds % 1000
        guard fraction == 0 else {
            var digits = String(fraction)
            digits = String(repeating: "0", count: 3 - digits.count) + digits
            while digits.last == "0" { digits.removeLast() }
            return "\(milliseconds).\(digits)ms"
        }
        let unit = units.last { UInt64(milliseconds) % $0.milliseconds == 0 } ?? units[0]
        return "\(UInt64(milliseconds) / unit.milliseconds)\(unit.suffix)"
    }
}
