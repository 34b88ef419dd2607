public import BeaconCore

/// How the dispatcher times heartbeats, limits registrations and batches writes and assignments.
/// The defaults are SwarmKit's.
public struct DispatcherConfiguration: Sendable, Hashable {
    /// The mean time between a node's heartbeats (SwarmKit: 5 s).
    public var heartbeatPeriod: Duration = .seconds(5)
    /// Each heartbeat's period is drawn from `heartbeatPeriod ± heartbeatJitter` (SwarmKit: 500 ms),
    /// so nodes restarted together drift apart.
    public var heartbeatJitter: Duration = .milliseconds(500)
    /// How many drawn periods may pass without a heartbeat before the node is DOWN: the missed
    /// beats tolerated (SwarmKit: 3, fixed). Raise it where VM migrations or overloaded nodes
    /// cause false DOWNs; fractions are allowed.
    public var graceMultiplier: Double = 3
    /// The grace of nodes carried over from a previous leader, which have not re-registered yet;
    /// nil means twice ``graceMultiplier`` (SwarmKit).
    public var unknownGraceMultiplier: Double?
    /// When set, each node's deadline is the larger of `period × graceMultiplier` and what a
    /// phi-accrual estimator of that node's own arrival times allows, so a node whose beats
    /// arrive irregularly gets more slack and a steady one keeps the fixed deadline.
    public var adaptiveTTL: AdaptiveTTLEstimator.Configuration?
    /// The window of the re-registration limit (SwarmKit: 8 s, the agent's longest back-off);
    /// zero turns the limit off.
    public var rateLimitPeriod: Duration = .seconds(8)
    /// Registrations of a known node allowed within the window (SwarmKit: 3).
    public var rateLimitCount: Int = 3
    /// Status writes queued before a flush is forced (SwarmKit: 10 000).
    public var statusBatchLimit: Int = 10_000
    /// Queued status writes are flushed this often (SwarmKit: 100 ms).
    public var statusBatchInterval: Duration = .milliseconds(100)
    /// Assignment batching and message size (SwarmKit: 100 changes / 100 ms; 1 MiB messages).
    public var assignmentBatching: AssignmentBatcherConfiguration = .swarmKit
    /// How much of INCREMENTAL assignment messages may wait for a node's reader (each weighs its
    /// bytes and 128 more); a batch that would take it past the limit ends the stream with
    /// ``DispatcherError/assignmentsBehind(limit:)``, and the node opens it again for a COMPLETE
    /// set. It bounds what a node that stopped reading (a stalled agent, a full TCP window) costs
    /// the dispatcher: at most the limit plus one batch. A stream's COMPLETE set is not counted.
    /// At least `assignmentBatching.byteBudget` (4 MiB: four full batches).
    public var assignmentBacklogLimit: Int = 4 << 20
    /// How long a node stays DOWN before its assigned-to-running tasks become ORPHANED (24 h).
    public var orphanAfter: Duration = .seconds(24 * 3600)
    /// The most nodes registered at once; the heartbeat wheel reserves (but does not touch)
    /// memory for this many.
    public var maximumNodes: Int = 1 << 20
    /// The heartbeat wheel's slot: DOWN is detected at most this late.
    public var expiryResolution: Duration = .milliseconds(2)
    /// How often node counts and heartbeat totals are reported through swift-metrics; the
    /// dispatcher's loop otherwise sleeps while only heartbeats arrive.
    public var metricsInterval: Duration = .seconds(1)

    public init() {}

    /// The numbers the dispatcher runs on, checked.
    struct Resolved: Sendable {
        /// The draw of a registered node's periods and deadlines.
        var heartbeat: JitteredPeriodPolicy
        /// The draw of a carried-over (UNKNOWN) node's deadline, at the longer grace.
        var unknownHeartbeat: JitteredPeriodPolicy
        var maximumTTL: Duration

        /// The period and jitter in the whole microseconds every draw uses.
        var periodMicros: UInt64 { heartbeat.periodMicros }
        var jitterMicros: UInt64 { heartbeat.jitterMicros }
        var grace: Double { heartbeat.graceMultiplier }
        var unknownGrace: Double { unknownHeartbeat.graceMultiplier }
    }

    /// Checks the configuration as a dispatcher does when it is created, without creating one:
    /// a command line or a config file can refuse bad settings before opening anything.
    ///
    /// - Throws: ``DispatcherError/invalidConfiguration(_:)`` naming the setting and its bounds.
    public func validate() throws(DispatcherError) {
        _ = try resolved()
    }

    func resolved() throws(DispatcherError) -> Resolved {
        func microseconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
        }
        guard heartbeatPeriod > .zero else {
            throw .invalidConfiguration("heartbeatPeriod \(heartbeatPeriod) must be positive")
        }
        guard heartbeatJitter >= .zero, heartbeatJitter < heartbeatPeriod else {
            throw .invalidConfiguration(
                "heartbeatJitter \(heartbeatJitter) must be at least 0 and below the period \(heartbeatPeriod)")
        }
        guard graceMultiplier.isFinite, graceMultiplier >= 1 else {
            throw .invalidConfiguration("graceMultiplier \(graceMultiplier) must be a finite number of at least 1")
        }
        let unknownGrace = unknownGraceMultiplier ?? 2 * graceMultiplier
        guard unknownGrace.isFinite, unknownGrace >= 1 else {
            throw .invalidConfiguration("unknownGraceMultiplier \(unknownGrace) must be a finite number of at least 1")
        }
        let periodMicros = microseconds(heartbeatPeriod).rounded(.up)
        let jitterMicros = microseconds(heartbeatJitter).rounded(.down)
        let longest = (periodMicros + jitterMicros) * max(graceMultiplier, unknownGrace)
        if let adaptiveTTL {
            do {
                _ = try AdaptiveTTLEstimator(configuration: adaptiveTTL)
            } catch {
                throw .invalidConfiguration("adaptiveTTL: \(error)")
            }
        }
        let adaptiveMaximum = adaptiveTTL.map { Double($0.maximumTTL.microseconds) } ?? 0
        let maximumMicros = max(longest, adaptiveMaximum).rounded(.up)
        guard maximumMicros <= Double(HeartbeatTTL.limit.microseconds) else {
            throw .invalidConfiguration(
                "the longest deadline, (\(heartbeatPeriod) + \(heartbeatJitter)) × \(max(graceMultiplier, unknownGrace)), is above the wheel's limit of \(HeartbeatTTL.limit)"
            )
        }
        guard rateLimitPeriod >= .zero else {
            throw .invalidConfiguration("rateLimitPeriod \(rateLimitPeriod) must not be negative")
        }
        guard rateLimitCount >= 1, rateLimitCount < Int32.max else {
            throw .invalidConfiguration("rateLimitCount \(rateLimitCount) must be at least 1 and below 2³¹ − 1")
        }
        guard statusBatchLimit >= 1 else {
            throw .invalidConfiguration("statusBatchLimit \(statusBatchLimit) must be at least 1")
        }
        guard statusBatchInterval > .zero else {
            throw .invalidConfiguration("statusBatchInterval \(statusBatchInterval) must be positive")
        }
        guard assignmentBacklogLimit >= assignmentBatching.byteBudget else {
            throw .invalidConfiguration(
                "assignmentBacklogLimit \(assignmentBacklogLimit) must be at least the assignment byte budget \(assignmentBatching.byteBudget)"
            )
        }
        guard orphanAfter > .zero else {
            throw .invalidConfiguration("orphanAfter \(orphanAfter) must be positive")
        }
        guard (1...(1 << 27)).contains(maximumNodes) else {
            throw .invalidConfiguration("maximumNodes \(maximumNodes) must be in 1...\(1 << 27)")
        }
        guard metricsInterval > .zero else {
            throw .invalidConfiguration("metricsInterval \(metricsInterval) must be positive")
        }
        guard expiryResolution >= .microseconds(100), expiryResolution <= .seconds(1) else {
            throw .invalidConfiguration("expiryResolution \(expiryResolution) must be between 100 µs and 1 s")
        }
        do {
            return Resolved(
                heartbeat: try JitteredPeriodPolicy(
                    period: heartbeatPeriod, jitter: heartbeatJitter, graceMultiplier: graceMultiplier),
                unknownHeartbeat: try JitteredPeriodPolicy(
                    period: heartbeatPeriod, jitter: heartbeatJitter, graceMultiplier: unknownGrace),
                maximumTTL: .microseconds(Int64(maximumMicros)))
        } catch {
            throw .invalidConfiguration("heartbeat timing: \(error)")
        }
    }

    /// Wheel records (and session slots) to reserve: twice the node limit. A node that registers
    /// again gets a fresh record at the normal deadline, and its old one is only recycled when the
    /// wheel passes the old deadline, so after a leadership change every node may briefly hold
    /// two. Untouched records cost address space, not memory.
    var recordCapacity: Int { 2 * maximumNodes }

    /// The wheel this configuration needs. On the system clock the wheel's stall guard stays on:
    /// a paused process extends deadlines instead of declaring every node DOWN when it resumes.
    /// Virtual time jumps on purpose, so it turns the guard off.
    func wheelConfiguration(stallGuard: Bool) throws(DispatcherError) -> HeartbeatWheelConfiguration {
        let resolved = try resolved()
        var wheel = HeartbeatWheelConfiguration(
            slotWidth: expiryResolution, maximumTTL: resolved.maximumTTL, capacity: recordCapacity)
        if !stallGuard { wheel.stallThreshold = nil }
        return wheel
    }
}
