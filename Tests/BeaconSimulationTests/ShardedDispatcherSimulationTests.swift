import BeaconSimulation
import Testing

/// Three managers in virtual time: the shares, the handoff after a kill, and the rejoin, held to
/// the bounds the sharded deployment promises.
@Suite struct ShardedDispatcherSimulationTests {
    @Test func aKilledManagersNodesMoveToTheOthersWithoutADownOrALostStatus() throws {
        let plan = try ShardedSimulationPlan(
            nodes: 1_500, managers: 3, duration: .seconds(60), rejoinAfter: .seconds(20))
        let outcome = try ShardedDispatcherSimulation(plan: plan).run()
        #expect(outcome.verdict.isEmpty, "\(outcome.verdict)")
        #expect(outcome.heldAtStart.reduce(0, +) == 1_500)
        #expect(outcome.shareRatios.allSatisfy { $0 >= 0.9 && $0 <= 1.1 }, "\(outcome.shareRatios)")
        // Only the killed manager's nodes moved, and each found its new owner once the lease ended.
        #expect(outcome.moved == outcome.heldAtStart[2])
        #expect(outcome.resessionSeconds.count == outcome.moved)
        #expect(outcome.resessionSeconds.allSatisfy { $0 >= 10 && $0 <= outcome.resessionBound })
        #expect(outcome.falseDowns == 0 && outcome.statusesLost == 0 && outcome.unsessioned == 0)
        let rejoinMoved = try #require(outcome.movedOnRejoin)
        #expect(Double(rejoinMoved) <= 1.1 * 500)
        // Every manager beat, and the steady window wrote nothing.
        #expect(outcome.beatsPerManager.allSatisfy { $0 > 0 })
        #expect(outcome.steady.heartbeats > 0 && outcome.steady.writes == 0)
    }

    @Test func badPlansAreRefusedWithTheValue() {
        #expect(throws: DispatcherSimulationPlanError.managers(1)) {
            try ShardedSimulationPlan(nodes: 10, managers: 1, duration: .seconds(60))
        }
        #expect(throws: DispatcherSimulationPlanError.killAt(.seconds(5))) {
            try ShardedSimulationPlan(nodes: 10, duration: .seconds(60), killAt: .seconds(5))
        }
        #expect(throws: DispatcherSimulationPlanError.leaseTTL(.milliseconds(500))) {
            try ShardedSimulationPlan(nodes: 10, duration: .seconds(60), leaseTTL: .milliseconds(500))
        }
        #expect(throws: DispatcherSimulationPlanError.rejoinAfter(.seconds(12))) {
            try ShardedSimulationPlan(nodes: 10, duration: .seconds(60), rejoinAfter: .seconds(12))
        }
        #expect(throws: DispatcherSimulationPlanError.nodes(0)) {
            try ShardedSimulationPlan(nodes: 0, duration: .seconds(60))
        }
    }
}
