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

    /// What was refused, and the range allowed.
    public var description: String {
        switch self {
        case .nodes(let nodes): "nodes must be in 1...\(DispatcherSimulationPlan.maximumNodes), not \(nodes)"
        case .duration(let duration):
            "duration must be between \(DispatcherSimulationPlan.minimumDuration) and \(DispatcherSimulationPlan.maximumDuration), not \(duration)"
        case .silentFraction(let fraction): "silent fraction must be in 0...1, not \(fraction)"
        case .assignmentNodes(let count, let nodes): "assignment nodes must be in 0...\(nodes), not \(count)"
        case .churnPerSecond(let churn): "churn must not be negative, not \(churn)"
        }
    }
}
