import BeaconCoordination
import BeaconCore
public import Logging

/// How a host takes part in a group. mgmt's options, with their defaults, plus a weight.
public struct ScheduleOptions: Sendable {
    /// The strategy's name in ``registry``; mgmt requires one at this layer, and so does this.
    public var strategy: String?
    /// Where ``strategy`` is looked up.
    public var registry: StrategyRegistry = .standard
    /// At most this many hosts are chosen (default 1).
    public var maxCount = 1
    /// The session lease's TTL (default 10 s): a participant that stops refreshing it leaves the
    /// group this long after its last refresh. etcd raises anything below 2 s to 2 s and counts
    /// whole seconds (this rounds up); at most `GrantedLease.longestTTL`.
    public var sessionTTL: Duration = .seconds(10)
    /// Keep the session lease when the handle shuts down, and reuse it for the next
    /// ``Scheduler/schedule(path:hostname:options:)`` of the same path and hostname on the same
    /// ``Scheduler``: the host stays in the group across a restart of its participant. The
    /// lease is kept alive until ``Scheduler/close()``.
    public var reuseLease = false
    /// When set, only these hosts may be chosen (mgmt declares this option and never reads it).
    public var hostsFilter: Set<String>?
    /// This host's weight for the `weighted` strategy (default 1; greater than 0 and at most
    /// `PlacementMember.maximumWeight`, 2⁵³, which the strategy's placer takes).
    public var weight: Double = 1
    /// Where the participant logs.
    public var logger = Logger(label: "beacon.scheduler")
    /// Logs every decision and store write at `info` instead of `debug`.
    public var debug = false

    public init(strategy: String? = RoundRobinStrategy.name) {
        self.strategy = strategy
    }

    /// Checks the options and resolves the strategy.
    func validated() throws(SchedulerError) -> any SchedulingStrategy {
        guard let strategy else { throw .missingStrategy }
        guard maxCount >= 1 else { throw .invalidOption("maxCount must be at least 1, not \(maxCount)") }
        guard sessionTTL > .zero, sessionTTL <= GrantedLease.longestTTL else {
            throw .invalidOption(
                "sessionTTL must be positive and at most \(GrantedLease.longestTTL), not \(sessionTTL)")
        }
        guard weight > 0, weight <= PlacementMember.maximumWeight else {
            throw .invalidOption("weight must be greater than 0 and at most 2^53, not \(weight)")
        }
        if let hostsFilter, hostsFilter.isEmpty {
            throw .invalidOption("hostsFilter must name at least one host (nil means no filter)")
        }
        return try registry.strategy(named: strategy)
    }
}
