import BeaconPlacement
import BeaconSimulation
import Testing

/// The getting-started example of BeaconSimulation's documentation catalog
/// (Sources/BeaconSimulation/BeaconSimulation.docc/GettingStarted.md), verbatim inside the test body.
@Suite struct SimulationDocsExampleTests {
    @Test func gettingStartedExample() throws {
        // 300 agents for 30 s of virtual time; 5 % of them fall silent a third of the way in.
        let plan = try DispatcherSimulationPlan(
            nodes: 300, duration: .seconds(30), silentFraction: 0.05, assignmentNodes: 20, churnPerSecond: 40, seed: 7)
        let outcome = try VirtualDispatcherSimulation(plan: plan).run()
        print(outcome.silent, outcome.falseDowns, outcome.missedDowns)  // 15 0 0

        // Fn's call placement on five runners with two slots each, for 2 s of virtual time.
        let workload = PlacementWorkload(
            runners: 5, slots: 2, functions: 50, zipfExponent: 0.9, utilisation: 0.2,
            meanServiceMilliseconds: 50, attemptMicroseconds: 200, seconds: 2, seed: 11)
        let result = try PlacerKind.boundedLoad.simulate(workload)
        print(result.placed == result.arrivals, result.failed)  // true 0

        #expect(outcome.silent == 15 && outcome.falseDowns == 0 && outcome.missedDowns == 0)
        #expect(result.arrivals > 0 && result.placed == result.arrivals && result.failed == 0)
    }
}
