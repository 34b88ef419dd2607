import BeaconPrimitives
import BeaconCore
@testable import BeaconPlacement
import Synchronization
import Testing

/// The async placer against runners that really run calls (Fn's lb_agent_test cases), in real
/// time with short durations; nothing here asserts how long anything took.
@Suite struct CallPlacerTests {
    /// Fn's mock runner: refuses when `maxCalls` calls are running, else runs for `duration`.
    final class SlottedRunner: Runner {
        let address: String
        let maxCalls: Int
        let duration: Duration
        private let running = PosixMutex(0)

        init(_ address: String, maxCalls: Int, duration: Duration) {
            self.address = address
            self.maxCalls = maxCalls
            self.duration = duration
        }

        nonisolated(nonsending) func tryExec<Call: RunnerCall>(_ call: Call, deadline: ContinuousClock.Instant?) async throws -> Bool {
            let admitted = running.withLock { count in
                guard count < maxCalls else { return false }
                count += 1
                return true
            }
            guard admitted else { return false }
            defer { running.withLock { $0 -= 1 } }
            let end = ContinuousClock.now.advanced(by: duration)
            if let deadline, deadline < end {
                try await Task.sleep(until: deadline, clock: .continuous)
                throw CancellationError()
            }
            try await Task.sleep(until: end, clock: .continuous)
            return true
        }

        func status() async throws -> RunnerStatus { RunnerStatus(activeRequestCount: Int32(running.withLock { $0 })) }
        func close() async throws {}
    }

    @Test(arguments: PlacerKind.allCases)
    func oneRunnerRunsTheCall(kind: PlacerKind) async throws {
        let runner = SlottedRunner("r0", maxCalls: 5, duration: .milliseconds(10))
        try await kind.makePlacer().placeCall(
            TestCall(), on: ScriptedPool(always: [runner]), deadline: .now.advanced(by: .seconds(10)))
    }

    @Test func aDeadlineAlreadyPassedFails() async {
        let runner = SlottedRunner("r0", maxCalls: 5, duration: .milliseconds(10))
        await #expect(throws: CallPlacementError.serverBusy) {
            try await CallPlacer.naive().placeCall(TestCall(), on: ScriptedPool(always: [runner]), deadline: .now)
        }
    }

    @Test func aDetachedCallOutlivingTheDetachedTimeoutFails() async throws {
        let placer = FakeDetachedPlacer(config: config(detached: .milliseconds(30)), sleep: .milliseconds(200))
        await #expect(throws: CallPlacementError.placerTimedOut) {
            try await placer.placeCall(TestCall(type: .detached), on: ScriptedPool(always: []), deadline: .now.advanced(by: .seconds(30)))
        }
        // A sync call uses the (long) placer timeout, and a request that expires first is no error.
        try await placer.placeCall(TestCall(type: .sync), on: ScriptedPool(always: []), deadline: nil)
        try await placer.placeCall(TestCall(type: .detached), on: ScriptedPool(always: []), deadline: .now)
    }

    @Test func moreCallsThanSlotsWithinTheirDeadlineMakeSomeFail() async {
        let runners: [any Runner] = [
            SlottedRunner("r0", maxCalls: 1, duration: .milliseconds(50)),
            SlottedRunner("r1", maxCalls: 1, duration: .milliseconds(50)),
        ]
        let placer = CallPlacer.naive(config: config(delay: .milliseconds(5)))
        let pool = ScriptedPool(always: runners)
        let failures = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    do {
                        try await placer.placeCall(TestCall(), on: pool, deadline: .now.advanced(by: .milliseconds(20)))
                        return false
                    } catch {
                        return true
                    }
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(failures >= 1)
    }

    @Test func cancellingThePlacingTaskEndsPlacementWithBusy() async {
        let metrics = MeasuredMetrics()
        let placer = CallPlacer.consistentHash(config: config(timeout: .seconds(3600)), metrics: metrics.placer)
        let busy = ScriptedRunner("r0", always: .busy)
        let placing = Task {
            try await placer.placeCall(TestCall(), on: ScriptedPool(always: [busy]))
        }
        while busy.attemptCount < 3 { await Task.yield() }
        placing.cancel()
        await #expect(throws: CallPlacementError.serverBusy) { try await placing.value }
        #expect(metrics.count("lb_placer_client_cancelled_count") == 1)
    }

    @Test func aRunnersErrorIsThrownAndAnAcceptedCallReturns() async throws {
        let failing = CallPlacer.naive()
        await #expect(throws: FunctionCrashed()) {
            try await failing.placeCall(TestCall(), on: ScriptedPool(always: [ScriptedRunner("r0", always: .fail(FunctionCrashed()))]))
        }
        try await CallPlacer.powerOfTwo().placeCall(
            TestCall(), on: ScriptedPool(always: [ScriptedRunner("r0", always: .busy), ScriptedRunner("r1", always: .accept)]))
    }

    @Test func boundedLoadReleasesEveryLeaseAfterConcurrentPlacements() async throws {
        let placer = try CallPlacer.boundedLoad(config: config(delay: .milliseconds(1), timeout: .seconds(30)))
        let runners: [any Runner] = (0..<4).map { SlottedRunner("r\($0)", maxCalls: 2, duration: .milliseconds(2)) }
        let pool = ScriptedPool(always: runners)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<40 {
                group.addTask { try await placer.placeCall(TestCall(function: "fn\(i % 3)"), on: pool) }
            }
            try await group.waitForAll()
        }
        #expect(placer.order.balancer.loads == [0, 0, 0, 0])
    }
}
