import BeaconCore
import Testing

@Suite struct PlacerAlgorithmTests {
    /// Each algorithm with its placer type, written out here so a case mapped to the wrong type
    /// (and so to the wrong name) fails.
    static let types: [(PlacerAlgorithm, Any.Type)] = [
        (.boundedLoad, BoundedLoadTable.self), (.maglev, MaglevPlacer.self), (.jump, JumpHashPlacer.self),
        (.ring, RingPlacer.self), (.rendezvous, RendezvousPlacer.self),
        (.boundedLoadRequests, BoundedLoadBalancer.self), (.powerOfTwo, PowerOfTwoChoicesPlacer.self),
        (.roundRobin, RoundRobinPlacer.self),
    ]

    @Test func everyAlgorithmIsNamedByItsTypeAndFoundByThatName() {
        #expect(Self.types.map(\.0) == PlacerAlgorithm.allCases)
        for (algorithm, type) in Self.types {
            let typeName =
                (type as? any Placer.Type)?.algorithmName ?? (type as? BoundedLoadBalancer.Type)?.algorithmName
                ?? (type as? PowerOfTwoChoicesPlacer.Type)?.algorithmName
            #expect(algorithm.name == typeName)
            #expect(PlacerAlgorithm(name: algorithm.name) == algorithm)
        }
        #expect(Set(PlacerAlgorithm.allCases.map(\.name)).count == PlacerAlgorithm.allCases.count)
        #expect(PlacerAlgorithm(name: "nosuch") == nil)
        #expect(PlacerAlgorithm(name: "") == nil)
    }
}
