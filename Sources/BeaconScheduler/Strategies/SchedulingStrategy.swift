/// A host taking part in a group, as the strategy sees it.
public struct SchedulingHost: Sendable, Hashable {
    public var name: String
    /// The weight the host advertises (``ScheduleOptions/weight``); only `weighted` reads it.
    public var weight: Double

    public init(_ name: String, weight: Double = 1) {
        self.name = name
        self.weight = weight
    }
}

/// What a strategy decides from.
public struct StrategyInput: Sendable {
    /// The group being scheduled.
    public var group: GroupPath
    /// The hosts present (after the hosts filter), sorted by name, no duplicates.
    public var hosts: [SchedulingHost]
    /// At most this many hosts may be chosen.
    public var maxCount: Int
    /// The state the strategy returned last time, whichever participant led then; nil at first.
    public var previousState: String?

    public init(group: GroupPath, hosts: [SchedulingHost], maxCount: Int, previousState: String?) {
        self.group = group
        self.hosts = hosts
        self.maxCount = maxCount
        self.previousState = previousState
    }

    /// mgmt's two strategy errors, shared by every built-in strategy.
    public func checkSchedulable() throws(SchedulerError) {
        guard !hosts.isEmpty else { throw .strategyFailed("cannot schedule from zero hosts") }
        guard maxCount > 0 else { throw .strategyFailed("cannot schedule with a max of zero") }
    }
}

/// A strategy's choice, and the state it needs next time. The leader persists the state next to
/// the result, so a new leader continues where the old one stopped (mgmt keeps it in the
/// leader's memory and loses it on fail-over).
public struct StrategyDecision: Sendable, Hashable {
    public var hosts: [String]
    public var state: String?

    public init(hosts: [String], state: String? = nil) {
        self.hosts = hosts
        self.state = state
    }
}

/// Chooses which hosts of a group are scheduled. A strategy is a pure function of its input:
/// whatever it must remember goes into ``StrategyDecision/state``.
public protocol SchedulingStrategy: Sendable {
    func schedule(_ input: StrategyInput) throws(SchedulerError) -> StrategyDecision
}
