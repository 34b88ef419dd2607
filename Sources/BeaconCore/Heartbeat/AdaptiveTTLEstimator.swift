#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An opt-in, per-node TTL that follows the node's own heartbeat rhythm, in the style of the
/// phi-accrual failure detector: it keeps exponentially weighted estimates of the mean and
/// variance of the time between beats and sets the TTL where the chance that a live node's next
/// beat is still to come drops to 10^-phi.
///
/// Use it for networks whose heartbeats jitter: a fixed TTL must be sized for the worst link,
/// while this one is tight for steady nodes and loose for erratic ones. Keep one per node in the
/// layer above the wheel (it is 40 bytes, outside the wheel's 16-byte record) and pass the TTL it
/// returns to ``HeartbeatWheel/beat(_:ttl:)``.
public struct AdaptiveTTLEstimator: Sendable, Hashable {
    /// How the estimate is formed.
    public struct Configuration: Sendable, Hashable {
        /// Weight of the newest interval in the averages, in (0, 1]. 0.1 remembers roughly the
        /// last ten beats.
        public var smoothing: Double
        /// The suspicion level at which the node counts as down: the TTL is where the probability
        /// that the next beat is merely late falls to 10^-phi. 8 is a common choice.
        public var phiThreshold: Double
        /// A floor for the standard deviation, so a perfectly regular node still gets slack.
        public var minimumStandardDeviation: Duration
        /// Extra time always allowed on top (garbage-collection pauses, a slow network hop).
        public var acceptablePause: Duration
        /// The TTL until two beats have been seen, and the bounds of every TTL.
        public var initialTTL: HeartbeatTTL
        public var minimumTTL: HeartbeatTTL
        public var maximumTTL: HeartbeatTTL

        /// A configuration; see each property. The estimator checks the values.
        ///
        /// - Complexity: O(1).
        public init(
            smoothing: Double = 0.1, phiThreshold: Double = 8,
            minimumStandardDeviation: Duration = .milliseconds(100), acceptablePause: Duration = .milliseconds(500),
            initialTTL: HeartbeatTTL, minimumTTL: HeartbeatTTL, maximumTTL: HeartbeatTTL
        ) {
            self.smoothing = smoothing
            self.phiThreshold = phiThreshold
            self.minimumStandardDeviation = minimumStandardDeviation
            self.acceptablePause = acceptablePause
            self.initialTTL = initialTTL
            self.minimumTTL = minimumTTL
            self.maximumTTL = maximumTTL
        }
    }

    private let configuration: Configuration
    /// The standard normal quantile for the phi threshold, computed once.
    private let quantile: Double
    private let floorMicros: Double
    private let pauseMicros: Double
    private var lastArrival: BeaconInstant?
    private var meanMicros = 0.0
    private var varianceMicros = 0.0
    private var intervals = 0

    /// An estimator with no beats seen yet.
    ///
    /// - Complexity: O(1): the quantile for the phi threshold is found by at most 50 Newton steps,
    ///   once.
    public init(configuration: Configuration) throws(HeartbeatError) {
        guard configuration.smoothing > 0, configuration.smoothing <= 1 else {
            throw .invalidConfiguration("smoothing \(configuration.smoothing) must be in (0, 1]")
        }
        guard configuration.phiThreshold > 0, configuration.phiThreshold <= 30 else {
            throw .invalidConfiguration("phiThreshold \(configuration.phiThreshold) must be in (0, 30]")
        }
        guard configuration.minimumStandardDeviation >= .zero, configuration.acceptablePause >= .zero else {
            throw .invalidConfiguration("minimumStandardDeviation and acceptablePause must not be negative")
        }
        guard configuration.minimumTTL <= configuration.initialTTL, configuration.initialTTL <= configuration.maximumTTL
        else {
            throw .invalidConfiguration("TTLs must satisfy minimumTTL ≤ initialTTL ≤ maximumTTL")
        }
        self.configuration = configuration
        quantile = Self.upperQuantile(phi: configuration.phiThreshold)
        floorMicros = Double(configuration.minimumStandardDeviation.nanosecondsRoundedUp) / 1000
        pauseMicros = Double(configuration.acceptablePause.nanosecondsRoundedUp) / 1000
    }

    /// Records a beat arriving at `instant` and returns the TTL to arm the node with. Arrivals
    /// earlier than the previous one are treated as simultaneous.
    ///
    /// - Complexity: O(1): two exponentially weighted updates; the estimator keeps no history.
    public mutating func observe(arrivalAt instant: BeaconInstant) -> HeartbeatTTL {
        defer { lastArrival = instant }
        guard let previous = lastArrival else { return configuration.initialTTL }
        let interval =
            Double(instant.nanoseconds > previous.nanoseconds ? instant.nanoseconds - previous.nanoseconds : 0) / 1000
        if intervals == 0 {
            meanMicros = interval
            varianceMicros = 0
        } else {
            let alpha = configuration.smoothing
            let deviation = interval - meanMicros
            meanMicros += alpha * deviation
            varianceMicros = (1 - alpha) * (varianceMicros + alpha * deviation * deviation)
        }
        intervals += 1
        return ttl
    }

    /// The TTL for the current estimate: mean + pause + z·σ, within the configured bounds.
    ///
    /// - Complexity: O(1).
    public var ttl: HeartbeatTTL {
        guard intervals > 0 else { return configuration.initialTTL }
        let deviation = max(varianceMicros.squareRoot(), floorMicros)
        let micros = meanMicros + pauseMicros + quantile * deviation
        let lower = Double(configuration.minimumTTL.microseconds)
        let upper = Double(configuration.maximumTTL.microseconds)
        return HeartbeatTTL(uncheckedMicroseconds: UInt64(min(max(micros.rounded(.up), lower), upper)))
    }

    /// The mean time between beats seen so far, or nil before the second beat.
    ///
    /// - Complexity: O(1).
    public var meanInterval: Duration? {
        intervals > 0 ? .microseconds(Int64(meanMicros.rounded())) : nil
    }

    /// The point z where a standard normal variable exceeds z with probability 10^-phi, using the
    /// logistic approximation of the normal tail that phi-accrual detectors use,
    /// P(X > z) ≈ 1 / (1 + e^{z(1.5976 + 0.070566 z²)}), solved for z by Newton's method (the
    /// exponent is increasing in z, so it converges from the linear guess).
    static func upperQuantile(phi: Double) -> Double {
        let target = log(pow(10, phi) - 1)
        var z = target / 1.5976
        for _ in 0..<50 {
            let value = z * (1.5976 + 0.070566 * z * z) - target
            let slope = 1.5976 + 3 * 0.070566 * z * z
            let step = value / slope
            z -= step
            if abs(step) < 1e-12 { break }
        }
        return z
    }
}
