import BeaconCore
import BeaconPrimitives
import Testing

@testable import BeaconPlacement

/// The async placer against runners that really run calls (Fn's lb_agent_test cases), on a manual
/// clock: the runners' run times, the retry-all delay and every timeout pass only when the test
/// moves the clock.
@Suite struct CallPlacerTests {
    /// Fn's mock runner: refuses when `maxCalls` calls are running, else runs for `duration` on
    /// `clock`, giving up (a committed error) at the call's deadline.
    final class SlottedRunner: Runner {
        let address: String
        let maxCalls: Int
        let duration: Duration
        let clock: ManualClock
        private let counts = PosixMutex((running: 0, completed: 0))

        init(_ address: String, maxCalls: Int, duration: Duration, clock: ManualClock) {
            self.address = address
            self.maxCalls = maxCalls
            self.duration = duration
            self.clock = clock
        }

        /// Calls that ran to their end.
        var completedCount: Int { counts.withLock { $0.completed } }

        nonisolated(nonsending) func tryExec<Call: RunnerCall>(_ call: Call, deadline: BeaconInstant?) async throws
            -> Bool
        {
            let admitted = counts.withLock { counts in
                guard counts.running < maxCalls else { return false }
                counts.running += 1
                return true
            }
            guard admitted else { return false }
            defer { counts.withLock { $0.running -= 1 } }
            let end = clock.now.advanced(by: duration)
            if let deadline, deadline < end {
                try await clock.sleep(until: deadline)
                throw CancellationError()
            }
            try await clock.sleep(until: end)
            counts.withLock { $0.completed += 1 }
            return true
        }

        func status() async throws -> RunnerStatus {
            RunnerStatus(activeRequestCount: Int32(counts.withLock { $0.running }))
        }
        func close() async throws {}
    }

    @Test(arguments: PlacerKind.allCases)
    func oneRunnerRunsTheCall(kind: PlacerKind) async throws {
        let clock = ManualClock()
        let runner = SlottedRunner("r0", maxCalls: 5, duration: .milliseconds(10), clock: clock)
        let placer = kind.makePlacer(clock: clock)
        let placing = Task {
            try await placer.placeCall(
                TestCall(), on: ScriptedPool(always: [runner]), deadline: clock.now.advanced(by: .seconds(10)))
        }
        // The runner holds the call until its run time has passed on the clock.
        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == .zero.advanced(by: .milliseconds(10)))
        try clock.advance(by: .milliseconds(10))
        try await placing.value
        #expect(runner.completedCount == 1)
    }

    @Test func aDeadlineAlreadyPassedFails() async {
        let clock = ManualClock()
        let runner = SlottedRunner("r0", maxCalls: 5, duration: .milliseconds(10), clock: clock)
        await #expect(throws: CallPlacementError.serverBusy) {
            try await CallPlacer.naive(clock: clock).placeCall(
                TestCall(), on: ScriptedPool(always: [runner]), deadline: clock.now)
        }
        #expect(runner.completedCount == 0)
    }

    @Test func aDetachedCallOutlivingTheDetachedTimeoutFails() async throws {
        let clock = ManualClock()
        let placer = FakeDetachedPlacer(
            config: config(detached: .milliseconds(30)), sleep: .milliseconds(200), clock: clock)
        let detached = Task {
            try await placer.placeCall(
                TestCall(type: .detached), on: ScriptedPool(always: []), deadline: clock.now.advanced(by: .seconds(30)))
        }
        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == .zero.advanced(by: .milliseconds(30)))
        try clock.advance(by: .milliseconds(30))
        await #expect(throws: CallPlacementError.placerTimedOut) { try await detached.value }

        // A sync call uses the (longer) placer timeout: it waits its whole 200 ms and succeeds.
        let sync = Task {
            try await placer.placeCall(TestCall(type: .sync), on: ScriptedPool(always: []), deadline: nil)
        }
        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == clock.now.advanced(by: .milliseconds(200)))
        try clock.advance(by: .milliseconds(200))
        try await sync.value

        // A request that expires first is no error, and takes no time.
        try await placer.placeCall(TestCall(type: .detached), on: ScriptedPool(always: []), deadline: clock.now)
    }

    /// Two one-slot runners, 10 ms calls, five calls due within 25 ms, a pass every 4 ms: two run
    /// at once, two more at 12 ms (the first pass after the slots freed at 10 ms), and the fifth
    /// gets a slot at 24 ms, too late to finish by 25 ms.
    @Test func moreCallsThanSlotsWithinTheirDeadlineMakeSomeFail() async {
        let clock = ManualClock()
        let runners = [
            SlottedRunner("r0", maxCalls: 1, duration: .milliseconds(10), clock: clock),
            SlottedRunner("r1", maxCalls: 1, duration: .milliseconds(10), clock: clock),
        ]
        let placer = CallPlacer.naive(config: config(delay: .milliseconds(4)), clock: clock)
        let pool = ScriptedPool(always: runners)
        let deadline = clock.now.advanced(by: .milliseconds(25))
        let outcomes = await runInVirtualTime(
            clock, (0..<5).map { _ in { try await placer.placeCall(TestCall(), on: pool, deadline: deadline) } })
        let failures = outcomes.filter { if case .failure = $0 { true } else { false } }
        #expect(failures.count == 1)
        #expect(runners.map(\.completedCount).reduce(0, +) == 4)
        #expect(clock.now == deadline)
    }

    @Test func thePlacerGivesUpAtItsTimeoutOnItsClock() async {
        let clock = ManualClock()
        let metrics = MeasuredMetrics()
        let busy = ScriptedRunner("r0", always: .busy)
        let placer = CallPlacer.naive(
            config: config(delay: .milliseconds(10), timeout: .milliseconds(500)), metrics: metrics.placer, clock: clock
        )
        let outcomes = await runInVirtualTime(
            clock, [{ try await placer.placeCall(TestCall(), on: ScriptedPool(always: [busy])) }])
        #expect(throws: CallPlacementError.serverBusy) { try outcomes[0].get() }
        // A pass at 0, 10, …, 490 ms, then the wait is cut at the 500 ms timeout.
        #expect(busy.attemptCount == 50)
        #expect(clock.now == .zero.advanced(by: .milliseconds(500)))
        #expect(metrics.count("lb_placer_timeout_count") == 1)
    }

    @Test func cancellingThePlacingTaskEndsPlacementWithBusy() async throws {
        let clock = ManualClock()
        let metrics = MeasuredMetrics()
        let placer = CallPlacer.consistentHash(
            config: config(timeout: .seconds(3600)), metrics: metrics.placer, clock: clock)
        let busy = ScriptedRunner("r0", always: .busy)
        let placing = Task {
            try await placer.placeCall(TestCall(), on: ScriptedPool(always: [busy]))
        }
        // After each pass the placer waits the retry-all delay (10 ms) on its clock.
        for pass in 1...3 {
            await clock.waitForSleepers(1)
            #expect(busy.attemptCount == pass)
            #expect(clock.nextDeadline == clock.now.advanced(by: .milliseconds(10)))
            if pass < 3 { try clock.advance(by: .milliseconds(10)) }
        }
        placing.cancel()
        await #expect(throws: CallPlacementError.serverBusy) { try await placing.value }
        #expect(busy.attemptCount == 3)
        #expect(metrics.count("lb_placer_client_cancelled_count") == 1)
    }

    @Test func aRunnersErrorIsThrownAndAnAcceptedCallReturns() async throws {
        let clock = ManualClock()
        let failing = CallPlacer.naive(clock: clock)
        await #expect(throws: FunctionCrashed()) {
            try await failing.placeCall(
                TestCall(), on: ScriptedPool(always: [ScriptedRunner("r0", always: .fail(FunctionCrashed()))]))
        }
        let busy = ScriptedRunner("r0", always: .busy)
        let accepting = ScriptedRunner("r1", always: .accept)
        try await CallPlacer.powerOfTwo(clock: clock).placeCall(
            TestCall(), on: ScriptedPool(always: [busy, accepting]))
        #expect(accepting.attemptCount == 1)
    }

    @Test func boundedLoadReleasesEveryLeaseAfterConcurrentPlacements() async throws {
        let clock = ManualClock()
        let placer = try CallPlacer.boundedLoad(
            config: config(delay: .milliseconds(1), timeout: .seconds(30)), clock: clock)
        let runners = (0..<4).map { SlottedRunner("r\($0)", maxCalls: 2, duration: .milliseconds(2), clock: clock) }
        let pool = ScriptedPool(always: runners)
        let outcomes = await runInVirtualTime(
            clock, (0..<40).map { i in { try await placer.placeCall(TestCall(function: "fn\(i % 3)"), on: pool) } })
        for outcome in outcomes { try outcome.get() }
        #expect(runners.map(\.completedCount).reduce(0, +) == 40)
        #expect(placer.order.balancer.loads == [0, 0, 0, 0])
    }
}
