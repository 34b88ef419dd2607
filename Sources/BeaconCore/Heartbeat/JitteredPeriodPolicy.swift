/// SwarmKit's heartbeat timing as a value: each heartbeat the manager picks the agent's next
/// period uniformly from `period ± jitter` (so a restarted cluster's agents spread out instead of
/// beating in lock-step), and the node is down if no beat arrives within that period times the
/// grace multiplier.
///
/// The dispatcher's heartbeat path draws every period through ``next(random:)``, so the policy
/// is the one definition of the draw for the library and for callers that run their own wheel.
public struct JitteredPeriodPolicy: Sendable, Hashable {
    /// The mean time between heartbeats (SwarmKit: 5 s).
    public let period: Duration
    /// The half-width of the uniform jitter (SwarmKit: 500 ms).
    public let jitter: Duration
    /// How many chosen periods may pass without a beat (SwarmKit: 3). Fractions are allowed: a
    /// deployment that sees false DOWNs raises it a little rather than by a whole period.
    public let graceMultiplier: Double

    /// The period in whole microseconds, rounded up, and the jitter rounded down: the draw is
    /// integer arithmetic on the beat path, and never leaves the band asked for.
    @usableFromInline package let periodMicros: UInt64
    @usableFromInline package let jitterMicros: UInt64
    /// The grace multiplier in fixed point, ``graceFractionBits`` bits after the point, rounded
    /// up: a TTL is then an integer multiply-shift (a floating-point multiply and `ceil`, a libm
    /// call, were a sixth of a dispatcher heartbeat's instructions). Rounding up keeps every TTL at
    /// least `period × graceMultiplier`. It adds less than `period / 2^31` before the final
    /// rounding up, so a TTL is at most 1 µs above the exact product rounded up for periods below
    /// 2^31 µs (35 minutes) and at most 2 µs above it up to the limit; a policy whose longest TTL
    /// lands within those 2 µs of ``HeartbeatTTL/limit`` is refused.
    @usableFromInline let graceFixed: UInt64
    /// 31: a multiplier times 2^31 fits 64 bits for every valid policy, because the longest TTL
    /// bounds the multiplier to 2^32 µs over a period of at least 1 µs.
    @usableFromInline static var graceFractionBits: UInt64 { 31 }

    /// A policy; `jitter` must be at least zero and below `period`, `graceMultiplier` finite and
    /// at least 1, and the longest TTL, `(period + jitter) × graceMultiplier`, at most
    /// ``HeartbeatTTL/limit``.
    ///
    /// - Complexity: O(1).
    public init(period: Duration, jitter: Duration, graceMultiplier: Double) throws(HeartbeatError) {
        let periodTTL = try HeartbeatTTL(period)
        guard jitter >= .zero, jitter < period else {
            throw .invalidConfiguration("jitter \(jitter) must be at least 0 and below the period \(period)")
        }
        guard graceMultiplier.isFinite, graceMultiplier >= 1 else {
            throw .invalidConfiguration("grace multiplier \(graceMultiplier) must be a finite number of at least 1")
        }
        // Below the period, so at most the TTL limit: no overflow.
        let (seconds, attoseconds) = jitter.components
        let jitterMicros = min(
            UInt64(seconds * 1_000_000 + attoseconds / 1_000_000_000_000), periodTTL.microseconds - 1)
        let tooLong = HeartbeatError.invalidConfiguration(
            "the longest TTL, (\(period) + \(jitter)) × \(graceMultiplier), is above \(HeartbeatTTL.limit)")
        let limit = Double(HeartbeatTTL.limit.microseconds)
        // Checked in floating point first, so the fixed-point multiplier below cannot overflow.
        guard Double(periodTTL.microseconds + jitterMicros) * graceMultiplier <= limit else { throw tooLong }
        let graceFixed = UInt64((graceMultiplier * Double(1 << Self.graceFractionBits)).rounded(.up))
        let longest = Self.ttlMicros(periodTTL.microseconds + jitterMicros, graceFixed: graceFixed)
        guard longest <= HeartbeatTTL.limit.microseconds else { throw tooLong }
        self.period = period
        self.jitter = jitter
        self.graceMultiplier = graceMultiplier
        self.periodMicros = periodTTL.microseconds
        self.jitterMicros = jitterMicros
        self.graceFixed = graceFixed
    }

    /// `ceil(micros × graceFixed / 2^graceFractionBits)`; the product stays below 2^96 because
    /// both factors are checked against the TTL limit.
    @inlinable @inline(__always)
    static func ttlMicros(_ micros: UInt64, graceFixed: UInt64) -> UInt64 {
        let product = micros.multipliedFullWidth(by: graceFixed)
        let fraction = product.low & ((1 << graceFractionBits) - 1)
        let whole = product.high << (64 - graceFractionBits) | product.low >> graceFractionBits
        return whole + (fraction == 0 ? 0 : 1)
    }

    /// SwarmKit's defaults: 5 s ± 500 ms, grace × 3.
    ///
    /// - Complexity: O(1).
    public static let swarmKitDefault = try! JitteredPeriodPolicy(
        period: .seconds(5), jitter: .milliseconds(500), graceMultiplier: 3)

    /// What to tell the agent and what to give the wheel after one heartbeat.
    public struct Assignment: Sendable, Hashable {
        /// When the agent should beat next.
        public let period: Duration
        /// How long the wheel should wait for that beat: `period × graceMultiplier`, rounded up
        /// to a whole microsecond.
        public let ttl: HeartbeatTTL

        @usableFromInline
        init(period: Duration, ttl: HeartbeatTTL) {
            self.period = period
            self.ttl = ttl
        }
    }

    /// Picks the next period. Pass a generator the calling thread or task owns (for example a
    /// ``SplitMix64``): a shared, locked generator would serialise every heartbeat.
    ///
    /// - Complexity: O(1), plus one draw from `generator`.
    public func next(using generator: inout some RandomNumberGenerator) -> Assignment {
        next(random: generator.next())
    }

    /// Picks the next period from one uniformly random word, uniform over
    /// `[period − jitter, period + jitter)`: a multiply-shift maps the word onto the band, with no
    /// rejection loop and no generator state, so a lock-free caller can keep its random stream in
    /// an atomic word per node. Always inlined: it is most of the work of a dispatcher heartbeat.
    ///
    /// - Complexity: O(1): two multiply-shifts; no loop, lock or allocation.
    @inlinable @inline(__always)
    public func next(random: UInt64) -> Assignment {
        let offset = jitterMicros == 0 ? 0 : random.multipliedFullWidth(by: 2 * jitterMicros).high
        let chosen = periodMicros - jitterMicros + offset
        // At most the longest TTL the initialiser checked against the limit.
        let ttl = Self.ttlMicros(chosen, graceFixed: graceFixed)
        return Assignment(period: .microseconds(Int64(chosen)), ttl: HeartbeatTTL(uncheckedMicroseconds: ttl))
    }
}
