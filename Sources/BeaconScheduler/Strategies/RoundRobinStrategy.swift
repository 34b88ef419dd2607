/// mgmt's `rr`: despite the name it does not rotate, it is sticky. It remembers hosts in the
/// order they arrived; newcomers queue at the end, leavers are removed, and the first `maxCount`
/// are chosen — so a chosen host stays chosen until it leaves.
///
/// The remembered order is the decision's state, persisted by the leader: after a fail-over the
/// new leader keeps the same order instead of starting from sorted names (mgmt's churn).
public struct RoundRobinStrategy: SchedulingStrategy {
    public static let name = "rr"

    public init() {}

    public func schedule(_ input: StrategyInput) throws(SchedulerError) -> StrategyDecision {
        try input.checkSchedulable()
        let present = Set(input.hosts.map(\.name))
        var order = (input.previousState ?? "").split(separator: ",").map(String.init).filter { present.contains($0) }
        var remembered = Set(order)
        for host in input.hosts where remembered.insert(host.name).inserted {
            order.append(host.name)
        }
        return StrategyDecision(hosts: Array(order.prefix(input.maxCount)), state: order.joined(separator: ","))
    }
}
