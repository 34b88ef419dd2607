import BeaconPlacement
import BeaconSimulation
import Testing

/// The placement simulation in virtual time: every call that arrives is counted once, as placed
/// or as given up, whatever the placer and however overloaded the pool.
@Suite struct PlacementSimulationTests {
    static func workload(utilisation: Double) -> PlacementWorkload {
        PlacementWorkload(
            runners: 5, slots: 2, functions: 50, zipfExponent: 0.9, utilisation: utilisation,
            meanServiceMilliseconds: 50, attemptMicroseconds: 200, seconds: 2, seed: 11)
    }

    @Test(arguments: PlacerKind.allCases)
    func anOverloadedPoolPlacesOrFailsEveryCallOnce(kind: PlacerKind) throws {
        // Half again as much work as the slots hold, and a placer that gives up after 100 ms.
        let config = try PlacerConfig(placerTimeout: .milliseconds(100))
        let result = try kind.simulate(Self.workload(utilisation: 1.5), config: config)
        #expect(result.arrivals > 0)
        #expect(result.calls == result.arrivals)
        #expect(result.placed + result.failed == result.arrivals)
        #expect(result.failed > 0)
        #expect(result.placed > 0)
    }

    @Test(arguments: PlacerKind.allCases)
    func aLightlyLoadedPoolPlacesEveryCall(kind: PlacerKind) throws {
        let result = try kind.simulate(Self.workload(utilisation: 0.2))
        #expect(result.arrivals > 0)
        #expect(result.placed == result.arrivals)
        #expect(result.failed == 0)
        #expect(result.calls == result.arrivals)
    }

    @Test func aWorkloadRepeatsExactly() throws {
        let first = try PlacerKind.boundedLoad.simulate(Self.workload(utilisation: 0.9))
        let second = try PlacerKind.boundedLoad.simulate(Self.workload(utilisation: 0.9))
        #expect(first.arrivals == second.arrivals)
        #expect(first.nacksPerCall == second.nacksPerCall)
        #expect(first.latencyP99 == second.latencyP99)
        #expect(first.sortedLoadRatios == second.sortedLoadRatios)
    }

    /// The consistent-hash placer on an idle pool sends each function to its home runner.
    @Test func consistentHashingOnAnIdlePoolPlacesAtHome() throws {
        let result = try PlacerKind.consistentHash.simulate(Self.workload(utilisation: 0.05))
        #expect(result.locality > 0.95)
    }
}
