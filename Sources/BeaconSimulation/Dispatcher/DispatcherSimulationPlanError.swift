/// An input of ``DispatcherSimulationPlan`` out of range; each case carries the value refused.
public enum DispatcherSimulationPlanError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Nodes outside 1...``DispatcherSimulationPlan/maximumNodes``.
    case nodes(Int)
    /// A duration outside ``DispatcherSimulationPlan/minimumDuration``...``DispatcherSimulationPlan/maximumDuration``.
    case duration(Duration)
    /// A silent fraction outside 0...1 (or not a number).
    case silentFraction(Double)
    /// More assignment nodes than nodes, or fewer than none.
    case assignmentNodes(Int, nodes: Int)
    /// A negative churn rate.
    case churnPerSecond(Int)
    /// Managers outside 2...``ShardedSimulationPlan/maximumManagers``.
    case managers(Int)
    /// A kill before ``ShardedSimulationPlan/earliestKill``, or too late for the lease to end and
    /// the nodes to move before the end.
    case killAt(Duration)
    /// A lease TTL outside 1 s...300 s.
    case leaseTTL(Duration)
    /// A rejoin before the killed manager's lease ended, or too late to finish before the end.
    case rejoinAfter(Duration)

    /// What was refused, and the range allowed.
    public var description: String {
        switch self {
        case .nodes(let nodes): "nodes must be in 1...\(DispatcherSimulationPlan.maximumNodes), not \(nodes)"
        case .duration(let duration):
            "duration must be between \(DispatcherSimulationPlan.minimumDuration) and \(DispatcherSimulationPlan.maximumDuration), not \(duration)"
        case .silentFraction(let fraction): "silent fraction must be in 0...1, not \(fraction)"
        case .assignmentNodes(let count, let nodes): "assignment nodes must be in 0...\(nodes), not \(count)"
        case .churnPerSecond(let churn): "churn must not be negative, not \(churn)"
        case .managers(let managers):
            "managers must be in 2...\(ShardedSimulationPlan.maximumManagers), not \(managers)"
        case .killAt(let instant):
            "the kill must come 11 s in or later (the steady window the report rates runs from 10 s in to the kill), and a lease TTL plus 15 s before the end, not at \(instant)"
        case .leaseTTL(let ttl): "the lease TTL must be between 1 s and 300 s, not \(ttl)"
        case .rejoinAfter(let delay):
            "the rejoin must come at least a lease TTL plus 5 s after the kill, and 15 s before the end, not \(delay) after"
        }
    }
}
