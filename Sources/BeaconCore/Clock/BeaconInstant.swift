/// A point on a monotonic clock, in nanoseconds since the clock's own fixed origin.
///
/// Instants from different clocks are not comparable in meaning; the heartbeat wheel only ever
/// compares instants from the clock it was created with.
public struct BeaconInstant: InstantProtocol, CustomStringConvertible {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: UInt64

    @inlinable
    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    /// The clock's origin.
    public static let zero = BeaconInstant(nanoseconds: 0)

    @inlinable
    public static func < (lhs: BeaconInstant, rhs: BeaconInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// This instant moved later by `duration`, saturating at the end of the clock's range.
    /// Negative durations move it earlier, saturating at the origin.
    public func advanced(by duration: Duration) -> BeaconInstant {
        let delta = duration.nanosecondsRoundedUp
        if delta >= 0 {
            let (sum, overflow) = nanoseconds.addingReportingOverflow(UInt64(delta))
            return BeaconInstant(nanoseconds: overflow ? .max : sum)
        }
        let magnitude = delta.magnitude
        return BeaconInstant(nanoseconds: nanoseconds > magnitude ? nanoseconds - magnitude : 0)
    }

    /// The time from `earlier` to this instant; negative when `earlier` is later.
    public func duration(since earlier: BeaconInstant) -> Duration {
        if nanoseconds >= earlier.nanoseconds {
            return .nanoseconds(Int64(clamping: nanoseconds - earlier.nanoseconds))
        }
        return .nanoseconds(-Int64(clamping: earlier.nanoseconds - nanoseconds))
    }

    /// The time from this instant to `later`; negative when `later` is earlier.
    public func duration(to later: BeaconInstant) -> Duration {
        later.duration(since: self)
    }

    public var description: String { "\(nanoseconds) ns" }
}

/// Encoded as its bare nanosecond count, the way monotonic send times travel in heartbeat messages.
extension BeaconInstant: Codable {
    public init(from decoder: any Decoder) throws {
        nanoseconds = try decoder.singleValueContainer().decode(UInt64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(nanoseconds)
    }
}

extension Duration {
    /// Whole microseconds, rounding any remainder up, saturating like `nanosecondsRoundedUp`.
    var microsecondsRoundedUp: Int64 {
        let nanos = nanosecondsRoundedUp
        return nanos / 1000 + (nanos % 1000 > 0 ? 1 : 0)
    }

    /// Whole nanoseconds, rounding any sub-nanosecond remainder away from zero, saturating at
    /// `Int64`'s range. Rounding up keeps a deadline built from a duration from ever being early.
    package var nanosecondsRoundedUp: Int64 {
        let (seconds, attoseconds) = components
        let (wholeSeconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        var nanos = attoseconds / 1_000_000_000
        if attoseconds % 1_000_000_000 > 0 { nanos += 1 }
        if attoseconds % 1_000_000_000 < 0 { nanos -= 1 }
        let (sum, sumOverflow) = wholeSeconds.addingReportingOverflow(nanos)
        if sumOverflow { return seconds < 0 ? .min : .max }
        return sum
    }
}
