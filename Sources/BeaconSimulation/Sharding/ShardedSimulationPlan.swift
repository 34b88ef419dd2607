public import BeaconDispatcher

/// What a sharded dispatcher simulation does: how many managers split how many nodes, when one
/// of them is killed, how long its lease outlives it, and when it comes back.
///
/// ```swift
/// let plan = try ShardedSimulationPlan(nodes: 30_000, managers: 3, duration: .seconds(90))
/// let outcome = try ShardedDispatcherSimulation(plan: plan).run()
/// assert(outcome.verdict.isEmpty)   // no live node DOWN, no status lost, every node back in a session
/// ```
public struct ShardedSimulationPlan: Sendable {
    /// The most managers a plan may run.
    public static let maximumManagers = 16

    /// Simulated agents, each a registered node with one task.
    public let nodes: Int
    /// Managers at the start; one of them is killed at ``killAt``.
    public let managers: Int
    /// Simulated time the run lasts.
    public let duration: Duration
    /// When the last manager is killed (its process ends without a word: nothing it queued is
    /// written, and its entry stays until its lease runs out).
    public let killAt: Duration
    /// How long a manager's entry outlives it.
    public let leaseTTL: Duration
    /// When the killed manager starts again, after its kill; nil: it stays dead.
    public let rejoinAfter: Duration?
    /// Seeds the order of the agents' first beats over the first second.
    public let seed: UInt64

    /// The earliest kill: every node has registered 10 s in, and the steady state the report
    /// rates runs from then to the kill, for a second at least.
    public static let earliestKill = Duration.seconds(11)

    /// How long a killed manager's entry outlives it when the plan does not say.
    public static let defaultLeaseTTL = Duration.seconds(10)

    /// A checked plan: the kill comes after every node registered (10 s in) and leaves time for
    /// the lease to end and the nodes to move; a rejoin comes after the lease ended and before
    /// the run ends.
    ///
    /// - Throws: ``DispatcherSimulationPlanError`` naming the first input out of range.
    public init(
        nodes: Int, managers: Int = 3, duration: Duration, killAt: Duration? = nil,
        leaseTTL: Duration = defaultLeaseTTL, rejoinAfter: Duration? = nil, seed: UInt64 = 1
    ) throws(DispatcherSimulationPlanError) {
        guard (1...DispatcherSimulationPlan.maximumNodes).contains(nodes) else { throw .nodes(nodes) }
        guard (2...Self.maximumManagers).contains(managers) else { throw .managers(managers) }
        guard duration >= DispatcherSimulationPlan.minimumDuration, duration <= DispatcherSimulationPlan.maximumDuration
        else { throw .duration(duration) }
        guard leaseTTL >= .seconds(1), leaseTTL <= .seconds(300) else { throw .leaseTTL(leaseTTL) }
        let killAt = killAt ?? duration / 3
        guard killAt >= Self.earliestKill, killAt + leaseTTL + .seconds(15) <= duration else { throw .killAt(killAt) }
        if let rejoinAfter {
            guard rejoinAfter >= leaseTTL + .seconds(5), killAt + rejoinAfter + .seconds(15) <= duration else {
                throw .rejoinAfter(rejoinAfter)
            }
        }
        self.nodes = nodes
        self.managers = managers
        self.duration = duration
        self.killAt = killAt
        self.leaseTTL = leaseTTL
        self.rejoinAfter = rejoinAfter
        self.seed = seed
    }

    /// SwarmKit's dispatcher settings, with room for every node in each manager.
    public var configuration: DispatcherConfiguration {
        var configuration = DispatcherConfiguration()
        configuration.maximumNodes = nodes
        return configuration
    }

    /// The managers' ids, `m1`, `m2`, …
    var managerIDs: [String] { (1...managers).map { "m\($0)" } }
}
