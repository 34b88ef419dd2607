/// mgmt's `alpha`: the first `maxCount` hosts in name order. (mgmt's `b02363ad` returned only the
/// first host whatever the maximum; its later versions honour the maximum, as this does.)
public struct AlphabeticalStrategy: SchedulingStrategy {
    public static let name = "alpha"

    public init() {}

    public func schedule(_ input: StrategyInput) throws(SchedulerError) -> StrategyDecision {
        try input.checkSchedulable()
        return StrategyDecision(hosts: input.hosts.prefix(input.maxCount).map(\.name))
    }
}
