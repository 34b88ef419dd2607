public import BeaconCore
public import BeaconPlacement

extension PlacerKind {
    /// Simulates this placer under `workload` (see ``PlacementSimulation``); its home runner is
    /// where it sends a function on an idle pool.
    ///
    /// - Parameters:
    ///   - workload: the pool, the functions and the arrivals to simulate.
    ///   - epsilon: the bounded-load placer's load factor ε; ignored by the others.
    ///   - config: the placer's timeouts and retry delay.
    /// - Throws: `PlacementError` if the bounded-load placer refuses `epsilon` or the runner
    ///   count.
    public func simulate(
        _ workload: PlacementWorkload, epsilon: Double = 0.1, config: PlacerConfig = .default
    ) throws(PlacementError) -> PlacementSimulationResult {
        let addresses = (0..<workload.runners).map { PlacementMember("runner-\($0)") }
        // Round robin has no home: measure against the consistent-hash home, as a reference.
        let consistentHash = ConsistentHashOrder()
        let referenceHome = { (call: PlainCall) in
            consistentHash.startIndex(forKey: consistentHash.key(for: call), runnerCount: workload.runners)
        }
        switch self {
        case .naive:
            return PlacementSimulation(
                name: rawValue, workload: workload, order: RoundRobinOrder(), home: referenceHome, config: config
            ).run()
        case .consistentHash, .consistentHashFnCompatible:
            let order = ConsistentHashOrder(mode: self == .consistentHash ? .uniform : .fnCompatible)
            return PlacementSimulation(
                name: rawValue, workload: workload, order: order,
                home: { order.startIndex(forKey: order.key(for: $0), runnerCount: workload.runners) }, config: config
            ).run()
        case .boundedLoad:
            let ring = try RingPlacer(members: addresses)
            let order = try LoadAwareOrder(epsilon: epsilon)
            return PlacementSimulation(
                name: rawValue, workload: workload, order: order,
                home: { (try? ring.memberIndex(forHash: order.key(for: $0))) ?? 0 }, config: config
            ).run()
        case .powerOfTwo:
            let order = LoadAwareOrder<PowerOfTwoChoicesPlacer>()
            return PlacementSimulation(
                name: rawValue, workload: workload, order: order,
                home: { JumpHashPlacer.bucket(for: order.key(for: $0), buckets: workload.runners) }, config: config
            ).run()
        }
    }
}
