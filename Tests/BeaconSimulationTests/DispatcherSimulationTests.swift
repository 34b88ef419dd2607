import BeaconSimulation
import Testing

/// The dispatcher simulation in virtual time: a few hundred agents heartbeat for 30 simulated
/// seconds while some go silent and an orchestrator churns tasks; the dispatcher must mark
/// every silent node DOWN, no live one, and leave every stream holding the store's tasks.
@Suite struct DispatcherSimulationTests {
    static func plan(seed: UInt64 = 7) throws -> DispatcherSimulationPlan {
        try DispatcherSimulationPlan(
            nodes: 300, duration: .seconds(30), silentFraction: 0.05, assignmentNodes: 20, churnPerSecond: 40,
            seed: seed)
    }

    @Test func everySilentNodeIsDetectedAndNoLiveNodeGoesDown() throws {
        let outcome = try VirtualDispatcherSimulation(plan: Self.plan()).run()
        #expect(outcome.silent == 15)
        #expect(outcome.falseDowns == 0)
        #expect(outcome.missedDowns == 0)
        // Silenced at 10 s, every silent node's deadline (at most 5.5 s × 3 later) falls well
        // before the end, so each is counted, detected and committed.
        #expect(outcome.detectionLateness.count == outcome.silent)
        #expect(outcome.commitLateness.count == outcome.silent)
        #expect(outcome.detectionLateness.allSatisfy { $0 >= 0 && $0 <= 20 })
        #expect(outcome.commitLateness.allSatisfy { $0 >= 0 && $0 <= 1000 })
        #expect(outcome.assignmentMismatches == 0)
        #expect(outcome.assignmentChanges > 0)
        #expect(outcome.verdict.isEmpty)
        // Each live agent beats every 4.5 to 5.5 s for 30 s, each silent one until 10 s.
        #expect(outcome.heartbeats >= 285 * 5 && outcome.heartbeats <= 300 * 7)
        // The call timing after the run: ten beats per live node, each timed single and batched.
        #expect(outcome.timedHeartbeats == 2_850)
        #expect((outcome.singleHeartbeatNanoseconds ?? 0) > 0 && (outcome.batchedHeartbeatNanoseconds ?? 0) > 0)
    }

    @Test func theProgressHandlerHearsEachPhase() throws {
        let phases = PhaseLog()
        _ = try VirtualDispatcherSimulation(plan: Self.plan()) { phases.append($0) }.run()
        #expect(
            phases.lines == [
                "creating 300 nodes", "registering", "running 30.0 seconds of virtual time", "timing heartbeat calls",
            ])
    }
}

/// Collects progress lines; the virtual simulation reports on the caller's thread.
private final class PhaseLog: @unchecked Sendable {
    private(set) var lines: [String] = []
    func append(_ line: String) { lines.append(line) }
}

/// The plan refuses each input out of range with a typed error naming the value.
@Suite struct DispatcherSimulationPlanTests {
    @Test func acceptsTheCommandLinesDefaults() throws {
        let plan = try DispatcherSimulationPlan(
            nodes: 100_000, duration: .seconds(60), silentFraction: 0.01, assignmentNodes: 1_000, churnPerSecond: 500)
        #expect(plan.configuration.maximumNodes == 100_000)
        #expect(plan.silenceAt == .seconds(20))
    }

    @Test func silencesNoEarlierThanTenSeconds() throws {
        #expect(try DispatcherSimulationPlan(nodes: 1, duration: .seconds(30)).silenceAt == .seconds(10))
    }

    @Test func refusesInputsOutOfRange() {
        #expect(throws: DispatcherSimulationPlanError.nodes(0)) {
            try DispatcherSimulationPlan(nodes: 0, duration: .seconds(30))
        }
        #expect(throws: DispatcherSimulationPlanError.nodes(DispatcherSimulationPlan.maximumNodes + 1)) {
            try DispatcherSimulationPlan(nodes: DispatcherSimulationPlan.maximumNodes + 1, duration: .seconds(30))
        }
        #expect(throws: DispatcherSimulationPlanError.duration(.seconds(29))) {
            try DispatcherSimulationPlan(nodes: 10, duration: .seconds(29))
        }
        #expect(throws: DispatcherSimulationPlanError.duration(.seconds(24 * 3600 + 1))) {
            try DispatcherSimulationPlan(nodes: 10, duration: .seconds(24 * 3600 + 1))
        }
        #expect(throws: DispatcherSimulationPlanError.silentFraction(1.5)) {
            try DispatcherSimulationPlan(nodes: 10, duration: .seconds(30), silentFraction: 1.5)
        }
        #expect(throws: DispatcherSimulationPlanError.assignmentNodes(11, nodes: 10)) {
            try DispatcherSimulationPlan(nodes: 10, duration: .seconds(30), assignmentNodes: 11)
        }
        #expect(throws: DispatcherSimulationPlanError.churnPerSecond(-1)) {
            try DispatcherSimulationPlan(nodes: 10, duration: .seconds(30), churnPerSecond: -1)
        }
    }

    @Test func refusesANotANumberFraction() {
        #expect {
            try DispatcherSimulationPlan(nodes: 10, duration: .seconds(30), silentFraction: .nan)
        } throws: { error in
            guard case .silentFraction(let fraction) = error as? DispatcherSimulationPlanError else { return false }
            return fraction.isNaN
        }
    }
}
