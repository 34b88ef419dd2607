/// SwarmKit's heartbeat timing as a value: each heartbeat the manager picks the agent's next
/// period uniformly from `period ± jitter` (so a restarted cluster's agents spread out instead of
/// beating in lock-step), and the node is down if no beat arrives within that period times the
/// grace multiplier.
public struct JitteredPeriodPolicy: Sendable, Hashable {
    /// The mean time between heartbeats (SwarmKit: 5 s).
    public let period: Duration
    /// The half-width of the uniform jitter (SwarmKit: 500 ms).
    public let jitter: Duration
    /// How many chosen periods may pass without a beat (SwarmKit: 3).
    public let graceMultiplier: Int

    private let periodMicros: UInt64
    private let jitterMicros: UInt64

    /// A policy; `jitter` must be below `period` and the longest TTL, `(period + jitter) ×
    /// graceMultiplier`, at most ``HeartbeatTTL/limit``.
    public init(period: Duration, jitter: Duration, graceMultiplier: Int) throws(HeartbeatError) {
        let periodTTL = try HeartbeatTTL(period)
        guard jitter >= .zero, jitter < period else {
            throw .invalidConfiguration("jitter \(jitter) must be at least 0 and below the period \(period)")
        }
        guard (1...1000).contains(graceMultiplier) else {
            throw .invalidConfiguration("grace multiplier \(graceMultiplier) must be in 1...1000")
        }
        let jitterMicros = jitter == .zero ? 0 : try HeartbeatTTL(jitter).microseconds
        let (longest, overflow) = (periodTTL.microseconds + jitterMicros).multipliedReportingOverflow(by: UInt64(graceMultiplier))
        guard !overflow, longest <= HeartbeatTTL.limit.microseconds else {
            throw .invalidConfiguration("the longest TTL, (\(period) + \(jitter)) × \(graceMultiplier), is above \(HeartbeatTTL.limit)")
        }
        self.period = period
        self.jitter = jitter
        self.graceMultiplier = graceMultiplier
        self.periodMicros = periodTTL.microseconds
        self.jitterMicros = min(jitterMicros, periodTTL.microseconds - 1)
    }

    /// SwarmKit's defaults: 5 s ± 500 ms, grace × 3.
    public static let swarmKitDefault = try! JitteredPeriodPolicy(
        period: .seconds(5), jitter: .milliseconds(500), graceMultiplier: 3)

    /// What to tell the agent and what to give the wheel after one heartbeat.
    public struct Assignment: Sendable, Hashable {
        /// When the agent should beat next.
        public let period: Duration
        /// How long the wheel should wait for that beat: `period × graceMultiplier`.
        public let ttl: HeartbeatTTL
    }

    /// Picks the next period. Pass a generator the calling thread or task owns (for example a
    /// ``SplitMix64``): a shared, locked generator would serialise every heartbeat.
    public func next(using generator: inout some RandomNumberGenerator) -> Assignment {
        let offset = jitterMicros == 0 ? 0 : generator.next(upperBound: 2 * jitterMicros + 1)
        let chosen = periodMicros - jitterMicros + offset
        return Assignment(
            period: .microseconds(Int64(chosen)),
            ttl: HeartbeatTTL(uncheckedMicroseconds: chosen * UInt64(graceMultiplier)))
    }
}
