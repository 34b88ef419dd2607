import BeaconCore

/// The delay before an agent's next connection attempt, as SwarmKit's agent does it: after each
/// failure the ceiling doubles from 100 ms up to 8 s, and the delay is drawn uniformly from the
/// upper half of it, so a fleet that lost its manager at the same moment does not come back in
/// step. A success starts over.
public struct ReconnectBackoff: Sendable {
    public let initial: Duration
    public let maximum: Duration
    private var ceiling: Duration?

    /// - Throws: ``ClientError/invalidConfiguration(_:)`` unless `0 < initial ≤ maximum`.
    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(8)) throws(ClientError) {
        guard initial > .zero, initial <= maximum else {
            throw .invalidConfiguration("backoff needs 0 < initial (\(initial)) ≤ maximum (\(maximum))")
        }
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay to wait after a failed attempt.
    public mutating func nextDelay(using random: inout some RandomNumberGenerator) -> Duration {
        let next = ceiling.map { min($0 * 2, maximum) } ?? initial
        ceiling = next
        let nanoseconds = next.nanosecondsRoundedUp
        return .nanoseconds(Int64.random(in: nanoseconds / 2 ... nanoseconds, using: &random))
    }

    public mutating func nextDelay() -> Duration {
        var random = SystemRandomNumberGenerator()
        return nextDelay(using: &random)
    }

    /// After a successful connection: the next failure waits about `initial` again.
    public mutating func reset() {
        ceiling = nil
    }
}
