/// How long a node may go without a beat before it expires, validated once so the beat path does
/// no conversion: whole microseconds, rounded up so a deadline is never earlier than asked for.
public struct HeartbeatTTL: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The TTL in microseconds, at least 1.
    public let microseconds: UInt64

    /// The largest TTL any wheel accepts: 2³² µs, about 71 minutes.
    ///
    /// - Complexity: O(1).
    public static let limit = HeartbeatTTL(uncheckedMicroseconds: 1 << 32)

    /// A TTL of `duration`, which must be positive and at most ``limit``.
    ///
    /// - Complexity: O(1).
    public init(_ duration: Duration) throws(HeartbeatError) {
        let micros = duration.microsecondsRoundedUp
        guard micros > 0, UInt64(micros) <= HeartbeatTTL.limit.microseconds else { throw .invalidTTL(duration) }
        self.microseconds = UInt64(micros)
    }

    /// A TTL the caller has already bounded to `1 ... limit` (layers that derive TTLs from a
    /// validated configuration on a hot path).
    @inlinable
    package init(uncheckedMicroseconds: UInt64) {
        microseconds = uncheckedMicroseconds
    }

    /// The TTL as a `Duration`.
    ///
    /// - Complexity: O(1).
    public var duration: Duration { .microseconds(Int64(microseconds)) }

    /// Whether `lhs` is shorter than `rhs`.
    ///
    /// - Complexity: O(1).
    public static func < (lhs: HeartbeatTTL, rhs: HeartbeatTTL) -> Bool {
        lhs.microseconds < rhs.microseconds
    }

    /// The TTL as a duration, for example `15.0 seconds`.
    ///
    /// - Complexity: O(1).
    public var description: String { "\(duration)" }
}
