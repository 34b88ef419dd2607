import Testing

@testable import BeaconPlacement

/// Fn's placer tests (naive_placer_test.go and the proposed CH additions), on the placement
/// state machine in virtual time: no sleeps, exact counts.
@Suite struct PlacementAttemptTests {
    @Test func emptyListWithAUserErrorFailsFastAfterOneFetch() {
        let metrics = MeasuredMetrics()
        let pool = ScriptedPool { _ in .failure(FunctionFailed()) }
        var placement = VirtualPlacement(
            order: RoundRobinOrder(), config: config(), metrics: metrics.placer, requestDeadline: .seconds(2))
        let result = placement.run(pool)
        #expect(result.error as? FunctionFailed == FunctionFailed())
        #expect(pool.fetchCount == 1)
        #expect(placement.elapsed == .zero)
        #expect(metrics.count("lb_placer_rp_empty_count") == 1)
        #expect(metrics.count("lb_placer_rp_error_count") == 1)
        #expect(metrics.count("lb_placer_client_timeout_count") == 0)
    }

    @Test func emptyListWithoutAnErrorRetriesUntilThePlacerTimeoutThenReportsBusy() {
        let metrics = MeasuredMetrics()
        let pool = ScriptedPool(always: [])
        var placement = VirtualPlacement(
            order: RoundRobinOrder(), config: config(), metrics: metrics.placer, requestDeadline: .seconds(2))
        let result = placement.run(pool)
        #expect(result.isServerBusy)
        // A fetch at 0, 10, …, 490 ms, then the wait is cut at the 500 ms deadline.
        #expect(pool.fetchCount == 50)
        #expect(placement.elapsed == .milliseconds(500))
        #expect(metrics.count("lb_placer_rp_empty_count") == 50)
        #expect(metrics.count("lb_placer_timeout_count") == 1)
        #expect(metrics.count("lb_placer_rp_error_count") == 0)
        #expect(metrics.latencies() == [500_000_000])
    }

    @Test func emptyListWithAServiceErrorKeepsRetryingAndReturnsIt() {
        let metrics = MeasuredMetrics()
        let pool = ScriptedPool { _ in .failure(HandlerNotFound()) }
        var placement = VirtualPlacement(order: RoundRobinOrder(), config: config(), metrics: metrics.placer)
        let result = placement.run(pool)
        #expect(result.error as? HandlerNotFound == HandlerNotFound())
        #expect(pool.fetchCount > 1)
        #expect(metrics.count("lb_placer_rp_error_count") == 1)
    }

    @Test func onlyAnUnwrappedFunctionErrorWithStatus502FailsFast() {
        for failure in [Wrapped(inner: FunctionFailed()) as any Error, FunctionBroke()] {
            let pool = ScriptedPool { _ in .failure(failure) }
            var placement = VirtualPlacement(
                order: RoundRobinOrder(), config: config(), metrics: MeasuredMetrics().placer)
            _ = placement.run(pool)
            #expect(pool.fetchCount == 50)
        }
    }

    @Test func busyRunnersThenAUserErrorTakeExactlyThreeFetchesAndTwoTriesEach() {
        let r1 = ScriptedRunner("r1", always: .busy)
        let r2 = ScriptedRunner("r2", always: .busy)
        let pool = ScriptedPool { fetch in fetch <= 2 ? .success([r1, r2]) : .failure(FunctionFailed()) }
        let metrics = MeasuredMetrics()
        var placement = VirtualPlacement(order: RoundRobinOrder(), config: config(), metrics: metrics.placer)
        let result = placement.run(pool)
        #expect(result.error as? FunctionFailed == FunctionFailed())
        #expect(pool.fetchCount == 3)
        #expect(r1.attemptCount == 2)
        #expect(r2.attemptCount == 2)
        #expect(metrics.count("lb_placer_retry_busy_count") == 4)
        #expect(metrics.attempts() == [4])
    }

    @Test func busyRunnersAreTriedInTurnUntilTheTimeout() {
        let r1 = ScriptedRunner("r1", always: .busy)
        let r2 = ScriptedRunner("r2", always: .busy)
        let pool = ScriptedPool(always: [r1, r2])
        // 3 ms per NACK: the 500 ms deadline falls inside a pass.
        var placement = VirtualPlacement(
            order: RoundRobinOrder(), config: config(), metrics: MeasuredMetrics().placer, attemptCost: .milliseconds(3)
        )
        let result = placement.run(pool)
        #expect(result.isServerBusy)
        #expect(pool.fetchCount > 1)
        #expect(r1.attemptCount > 1 && r2.attemptCount > 1)
        #expect(abs(r1.attemptCount - r2.attemptCount) <= 1)
    }

    @Test func aRunnerErrorAfterANackIsReturnedAsIs() {
        let r0 = ScriptedRunner("r0", always: .busy)
        let r1 = ScriptedRunner("r1", always: .fail(FunctionCrashed()))
        let metrics = MeasuredMetrics()
        var placement = VirtualPlacement(
            order: ConsistentHashOrder(mode: .fnCompatible), call: TestCall(function: "fn1"), config: config(),
            metrics: metrics.placer)
        let result = placement.run(ScriptedPool(always: [r0, r1]))
        #expect(placement.tried == ["r0", "r1"])
        guard case .placed(let error?) = result else {
            Issue.record("expected the runner's error, got \(result)")
            return
        }
        #expect(error as? FunctionCrashed == FunctionCrashed())
        #expect(metrics.count("lb_placer_placed_error_count") == 1)
        #expect(metrics.count("lb_placer_retry_busy_count") == 1)
    }

    @Test func refusalsOtherThanBusyCountAsRetryErrorsAndAreNeverReturned() {
        let r0 = ScriptedRunner("r0", always: .refuse(.closed))
        let r1 = ScriptedRunner("r1", always: .refuse(.notDelivered(HandlerNotFound())))
        let metrics = MeasuredMetrics()
        var placement = VirtualPlacement(
            order: RoundRobinOrder(), config: config(timeout: .milliseconds(30)), metrics: metrics.placer)
        let result = placement.run(ScriptedPool(always: [r0, r1]))
        #expect(result.isServerBusy)
        #expect(metrics.count("lb_placer_retry_error_count") == Int64(r0.attemptCount + r1.attemptCount))
    }

    @Test func theClientDeadlineEndsPlacementWithBusyNotATimeoutError() {
        let metrics = MeasuredMetrics()
        let busy = ScriptedRunner("r0", always: .busy)
        var placement = VirtualPlacement(
            order: RoundRobinOrder(), config: config(), metrics: metrics.placer, requestDeadline: .milliseconds(35))
        let result = placement.run(ScriptedPool(always: [busy]))
        #expect(result.isServerBusy)
        #expect(placement.elapsed == .milliseconds(35))
        #expect(metrics.count("lb_placer_client_timeout_count") == 1)
        #expect(metrics.count("lb_placer_timeout_count") == 0)
    }

    @Test func cancellingTheRequestMidPlacementEndsIt() {
        let metrics = MeasuredMetrics()
        let busy = ScriptedRunner("r0", always: .busy)
        var placement = VirtualPlacement(
            order: RoundRobinOrder(), config: config(), metrics: metrics.placer, cancelAfter: .milliseconds(25))
        let result = placement.run(ScriptedPool(always: [busy]))
        #expect(result.isServerBusy)
        #expect(placement.elapsed == .milliseconds(25))
        #expect(metrics.count("lb_placer_client_cancelled_count") == 1)
        #expect(busy.attemptCount == 3)
    }

    @Test func aDetachedCallUsesTheDetachedTimeout() {
        let pool = ScriptedPool(always: [])
        var placement = VirtualPlacement(
            order: RoundRobinOrder(), call: TestCall(type: .detached),
            config: config(timeout: .seconds(3600), detached: .milliseconds(40)), metrics: MeasuredMetrics().placer)
        #expect(placement.run(pool).isServerBusy)
        #expect(placement.elapsed == .milliseconds(40))
    }

    @Test func aRetryDelayLongerThanThePlacerTimeoutMeansOneFetch() {
        let pool = ScriptedPool(always: [])
        var placement = VirtualPlacement(
            order: RoundRobinOrder(), config: config(delay: .seconds(1), timeout: .milliseconds(50)),
            metrics: MeasuredMetrics().placer)
        #expect(placement.run(pool).isServerBusy)
        #expect(pool.fetchCount == 1)
    }

    @Test func thePlacerTimeoutNeverCutsOffARunningCall() {
        let metrics = MeasuredMetrics()
        let slow = ScriptedRunner("r0", always: .run(.seconds(2)))
        var placement = VirtualPlacement(order: RoundRobinOrder(), config: config(), metrics: metrics.placer)
        #expect(placement.run(ScriptedPool(always: [slow])).placedSuccessfully)
        #expect(placement.elapsed > .milliseconds(500))
        #expect(metrics.count("lb_placer_placed_ok_count") == 1)
        #expect(metrics.count("lb_placer_timeout_count") == 0)
        // Placement latency stops at the last attempt's start: the run itself is not counted.
        #expect(metrics.latencies() == [0])
    }

    @Test func aCallCutOffByTheClientCountsAsAborted() {
        let metrics = MeasuredMetrics()
        let runner = ScriptedRunner("r0", always: .fail(CancellationError()))
        var placement = VirtualPlacement(order: RoundRobinOrder(), config: config(), metrics: metrics.placer)
        _ = placement.run(ScriptedPool(always: [runner]))
        #expect(metrics.count("lb_placer_placed_abort_count") == 1)
        #expect(metrics.count("lb_placer_placed_error_count") == 0)
    }

    @Test func latencyCountsTheNackRoundTripsBeforeTheAcceptingRunner() {
        let metrics = MeasuredMetrics()
        let runners = [
            ScriptedRunner("r0", always: .busy), ScriptedRunner("r1", always: .busy),
            ScriptedRunner("r2", always: .accept),
        ]
        var placement = VirtualPlacement(
            order: ConsistentHashOrder(mode: .fnCompatible), call: TestCall(function: "fn1"), config: config(),
            metrics: metrics.placer, attemptCost: .milliseconds(1))
        #expect(placement.run(ScriptedPool(always: runners)).placedSuccessfully)
        #expect(placement.tried == ["r0", "r1", "r2"])
        #expect(metrics.latencies() == [2_000_000])
        #expect(metrics.attempts() == [3])
    }

    @Test func configurationRejectsNonPositiveDurations() throws {
        #expect(throws: PlacerConfigError.notPositive(name: "retryAllDelay", value: .zero)) {
            try PlacerConfig(retryAllDelay: .zero)
        }
        #expect(throws: PlacerConfigError.notPositive(name: "detachedPlacerTimeout", value: .seconds(-1))) {
            try PlacerConfig(detachedPlacerTimeout: .seconds(-1))
        }
        #expect(try PlacerConfig.default == PlacerConfig())
        #expect(PlacerConfig.default.timeout(for: .detached) == .seconds(30))
        #expect(PlacerConfig.default.timeout(for: .sync) == .seconds(360))
    }
}
