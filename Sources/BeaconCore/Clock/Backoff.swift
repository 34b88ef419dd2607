/// The delay before the next attempt after a failure, shared by every retry loop in Beacon (an
/// agent reconnecting, a scheduler participant re-joining, a simulated node re-registering).
///
/// After each failure the ceiling doubles from `initial` up to `maximum`, and the delay is drawn
/// uniformly from the upper half of the ceiling, so a fleet that failed at the same moment does
/// not retry in step (SwarmKit's agent does the same). ``reset()`` after a success starts over.
/// The random source is the caller's, so a test with a seeded generator gets the same delays
/// every run, and ``sleep(on:using:)`` sleeps on the caller's clock.
///
/// ```swift
/// var backoff = try Backoff(initial: .milliseconds(100), maximum: .seconds(8))
/// var random = SplitMix64(seed: 7)
/// while true {
///     do { try await connect(); backoff.reset(); break }
///     catch { try await backoff.sleep(on: clock, using: &random) }
/// }
/// ```
public struct Backoff: Sendable, Equatable {
    /// The first delay's ceiling.
    public let initial: Duration
    /// The largest ceiling the doubling reaches.
    public let maximum: Duration
    private var ceiling: Duration?

    /// - Throws: ``BackoffError/invalidRange(initial:maximum:)`` unless `0 < initial ≤ maximum`.
    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(8)) throws(BackoffError) {
        guard initial > .zero, initial <= maximum else { throw .invalidRange(initial: initial, maximum: maximum) }
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay to wait after a failed attempt: in `ceiling/2 ... ceiling`, where the ceiling
    /// doubles with every call since the last ``reset()``.
    public mutating func nextDelay(using random: inout some RandomNumberGenerator) -> Duration {
        let next = ceiling.map { min($0 * 2, maximum) } ?? initial
        ceiling = next
        let nanoseconds = next.nanosecondsRoundedUp
        return .nanoseconds(Int64.random(in: nanoseconds / 2...nanoseconds, using: &random))
    }

    /// Waits ``nextDelay(using:)`` on `clock`. Throws `CancellationError` if the task is cancelled.
    public mutating func sleep(on clock: some BeaconClock, using random: inout some RandomNumberGenerator) async throws
    {
        let delay = nextDelay(using: &random)
        try await clock.sleep(until: clock.now.advanced(by: delay), tolerance: nil)
    }

    /// After a success: the next failure waits about `initial` again.
    public mutating func reset() {
        ceiling = nil
    }

    /// After something that succeeded and then failed (a session that opened, then ended): starts
    /// over only if it held for at least `maximum`. Resetting at the success instead would retry a
    /// server that accepts and then fails every attempt about every `initial`, for good.
    public mutating func reset(afterHolding held: Duration) {
        if held >= maximum { ceiling = nil }
    }
}

/// Why a ``Backoff`` could not be made.
public enum BackoffError: Error, Equatable, CustomStringConvertible {
    /// The range is empty or starts at zero.
    case invalidRange(initial: Duration, maximum: Duration)

    public var description: String {
        switch self {
        case .invalidRange(let initial, let maximum):
            "a back-off needs 0 < initial (\(initial)) ≤ maximum (\(maximum))"
        }
    }
}
