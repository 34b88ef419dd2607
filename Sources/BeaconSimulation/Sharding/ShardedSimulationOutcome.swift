/// What a sharded dispatcher simulation measured.
public struct ShardedSimulationOutcome: Sendable {
    /// The plan that ran.
    public let plan: ShardedSimulationPlan
    /// Nodes each manager held once all had joined, in manager order.
    public var heldAtStart: [Int] = []
    /// Heartbeats each manager took over the whole run, in manager order.
    public var beatsPerManager: [Int] = []
    /// Nodes the killed manager held, which the others took over.
    public var moved = 0
    /// Seconds from the kill until each moved node held a session with its new owner.
    public var resessionSeconds: [Double] = []
    /// Nodes that moved when the killed manager came back, and the share a join should move.
    public var movedOnRejoin: Int?
    /// Live nodes the store saw DOWN (every agent of this simulation stays alive).
    public var falseDowns = 0
    /// Tasks whose RUNNING status, reported by their node, is not in the store at the end.
    public var statusesLost = 0
    /// Nodes without a session at the end.
    public var unsessioned = 0
    /// Store writes over the whole run.
    public var storeWrites = 0
    /// Heartbeats over the whole run.
    public var heartbeats = 0
    /// Store writes and heartbeats from 10 s in until the kill, when every node has registered:
    /// a heartbeat writes nothing, so the writes there are state changes alone.
    public var steady: (writes: Int, heartbeats: Int) = (0, 0)

    /// The steady window's length in seconds.
    public var steadySeconds: Double {
        let killAt = plan.killAt.components
        return Double(killAt.seconds) + Double(killAt.attoseconds) / 1e18 - Double(ShardedRun.steadyFrom) / 1000
    }

    init(plan: ShardedSimulationPlan) {
        self.plan = plan
    }

    /// The nodes an ideal table moves when one of `managers` leaves or joins.
    public static func idealMove(nodes: Int, managers: Int) -> Double {
        Double(nodes) / Double(managers)
    }

    /// Each manager's share of the nodes at the start, as a ratio to the fair share (1 is exact).
    public var shareRatios: [Double] {
        let fair = Double(plan.nodes) / Double(plan.managers)
        return heldAtStart.map { Double($0) / fair }
    }

    /// Seconds the kill's last moved node took to hold a session again.
    public var longestResession: Double { resessionSeconds.max() ?? 0 }

    /// The bound the issue sets on re-sessioning: the lease TTL plus two heartbeat periods.
    public var resessionBound: Double {
        Double(plan.leaseTTL.components.seconds) + 2 * Double(plan.configuration.heartbeatPeriod.components.seconds)
    }

    /// Everything that went wrong; empty when the handoff was clean.
    public var verdict: [String] {
        var problems: [String] = []
        if falseDowns > 0 { problems.append("\(falseDowns) live nodes written DOWN") }
        if statusesLost > 0 { problems.append("\(statusesLost) reported statuses missing from the store") }
        if unsessioned > 0 { problems.append("\(unsessioned) nodes without a session at the end") }
        if resessionSeconds.count < moved {
            problems.append("\(moved - resessionSeconds.count) moved nodes never re-sessioned")
        }
        if longestResession > resessionBound {
            problems.append("a moved node took \(longestResession) s to re-session, above \(resessionBound) s")
        }
        if let movedOnRejoin {
            let ideal = Self.idealMove(nodes: plan.nodes, managers: plan.managers)
            if Double(movedOnRejoin) > 1.1 * ideal {
                problems.append("the rejoin moved \(movedOnRejoin) nodes, above 1.1 × the ideal \(Int(ideal))")
            }
        }
        return problems
    }
}
