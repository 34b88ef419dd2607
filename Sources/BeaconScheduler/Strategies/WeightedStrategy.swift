import BeaconCore

/// Chooses hosts by weighted rendezvous hashing of the group's path: across many groups a host
/// is chosen in proportion to its advertised weight, a joining host takes groups only from
/// where it now scores best, and a leaving host's groups spread over the rest. Stateless: every
/// leader computes the same answer from the same hosts.
public struct WeightedStrategy: SchedulingStrategy {
    public static let name = "weighted"

    public init() {}

    public func schedule(_ input: StrategyInput) throws(SchedulerError) -> StrategyDecision {
        try input.checkSchedulable()
        do {
            let placer = try RendezvousPlacer(members: input.hosts.map { PlacementMember($0.name, weight: $0.weight) })
            return StrategyDecision(hosts: try chooseReplicas(of: input.group, from: placer, count: input.maxCount))
        } catch {
            throw .strategyFailed("\(error)")
        }
    }
}

/// The group's first `count` replicas (or all members, if fewer), sorted by name.
func chooseReplicas(of group: GroupPath, from placer: some ReplicaPlacer, count: Int) throws(PlacementError) -> [String]
{
    let wanted = min(count, placer.memberCount)
    var indices = [Int](repeating: 0, count: wanted)
    try indices.withUnsafeMutableBufferPointer { buffer throws(PlacementError) in
        try placer.replicas(for: group.rawValue, into: buffer)
    }
    let members = placer.members
    return indices.map { members[$0].name }.sorted()
}
