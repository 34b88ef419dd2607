public import BeaconCore

/// A placer: a ``PlacementOrder`` run by ``PlacementAttempt`` against real runners and a
/// `BeaconClock` (the monotonic one unless a test or simulation passes a `ManualClock`).
///
/// Make one with ``naive(config:metrics:clock:)``, ``consistentHash(mode:config:metrics:clock:)``,
/// ``boundedLoad(epsilon:config:metrics:clock:)`` or ``powerOfTwo(config:metrics:clock:)``, or pick
/// one by name with ``PlacerKind``. A placer is shared by all calls; it holds no lock.
///
/// The clock is held as `any BeaconClock` rather than as a second generic parameter: a placement
/// reads it at most twice when the first runner accepts, so the dynamic call costs nothing
/// measurable, and the placer's type stays `CallPlacer<Order>`.
public struct CallPlacer<Order: PlacementOrder>: RunnerPlacer {
    public let config: PlacerConfig
    /// The order runners are tried in.
    public let order: Order
    /// Where the placer's metrics go.
    public let metrics: PlacerMetrics
    public let clock: any BeaconClock

    /// Creates a placer trying runners in `order`, timing its waits and deadlines on `clock`.
    public init(
        order: Order, config: PlacerConfig = .default, metrics: PlacerMetrics = PlacerMetrics(),
        clock: some BeaconClock = MonotonicClock()
    ) {
        self.order = order
        self.config = config
        self.metrics = metrics
        self.clock = clock
    }

    @inlinable
    public nonisolated(nonsending) func placeCall<Call: RunnerCall, Pool: RunnerPool>(
        _ call: Call,
        on pool: Pool,
        deadline: BeaconInstant?
    ) async throws {
        let start = clock.now
        var attempt = PlacementAttempt(
            order: order, call: call, config: config, metrics: metrics, requestDeadline: deadline, now: start)
        var runners: [any Runner] = []
        var action = attempt.begin()
        while true {
            switch action {
            case .fetchRunners:
                do {
                    runners = try await pool.runners(for: call)
                    action = attempt.runnersFetched(runners, now: clock.now, isCancelled: Task.isCancelled)
                } catch {
                    runners = []
                    action = attempt.fetchFailed(error, now: clock.now, isCancelled: Task.isCancelled)
                }
            case .tryRunner(let index):
                let answer: RunnerAnswer
                do {
                    answer = try await runners[index].tryExec(call, deadline: deadline) ? .placed(nil) : .refused(.busy)
                } catch let refusal as RunnerRefusal {
                    answer = .refused(refusal)
                } catch {
                    answer = .placed(error)
                }
                action = attempt.runnerAnswered(
                    answer, now: attempt.instantAfterAnswer(answer, clock: clock), isCancelled: Task.isCancelled)
            case .wait(let wake):
                // Cancellation ends the sleep early; the attempt sees it and gives up.
                try? await clock.sleep(until: wake, tolerance: nil)
                action = attempt.woke(now: clock.now, isCancelled: Task.isCancelled)
            case .finish:
                switch attempt.result {
                case .placed(nil), nil: return
                case .placed(let error?), .notPlaced(let error): throw error
                }
            }
        }
    }
}

extension CallPlacer where Order == RoundRobinOrder {
    /// Fn's naive placer: round robin, one pass per fetched list.
    public static func naive(
        config: PlacerConfig = .default, metrics: PlacerMetrics = PlacerMetrics(),
        clock: some BeaconClock = MonotonicClock()
    ) -> Self {
        CallPlacer(order: RoundRobinOrder(), config: config, metrics: metrics, clock: clock)
    }
}

extension CallPlacer where Order == ConsistentHashOrder {
    /// Fn's consistent-hash placer, with the paper's jump hash unless `mode` is
    /// ``ConsistentHashOrder/Mode/fnCompatible``.
    public static func consistentHash(
        mode: ConsistentHashOrder.Mode = .uniform,
        config: PlacerConfig = .default,
        metrics: PlacerMetrics = PlacerMetrics(),
        clock: some BeaconClock = MonotonicClock()
    ) -> Self {
        CallPlacer(order: ConsistentHashOrder(mode: mode), config: config, metrics: metrics, clock: clock)
    }
}

extension CallPlacer where Order == LoadAwareOrder<BoundedLoadBalancer> {
    /// Bounded-load consistent hashing: a function stays on its ring owner until that runner holds
    /// (1+ε)× the average of this placer's running calls, then spills to the next runner with room.
    ///
    /// ε = 0.1 by default, lower than the core balancer's 0.25: runners refuse at their own slot
    /// limit, and the bound only saves NACKs while it does not exceed that limit — with 8 slots at
    /// 80 % utilisation ε = 0.1 gives a bound of 8 calls, ε = 0.25 one of 9. A larger ε keeps more
    /// calls on their owner at low load and costs NACKs at high load (docs/call-placement.md).
    /// Use one placer per runner pool.
    ///
    /// - Throws: `PlacementError/invalidLoadFactor(_:)` unless ε is finite and positive.
    public static func boundedLoad(
        epsilon: Double = 0.1,
        config: PlacerConfig = .default,
        metrics: PlacerMetrics = PlacerMetrics(),
        clock: some BeaconClock = MonotonicClock()
    ) throws(PlacementError) -> Self {
        CallPlacer(order: try LoadAwareOrder(epsilon: epsilon), config: config, metrics: metrics, clock: clock)
    }
}

extension CallPlacer where Order == LoadAwareOrder<PowerOfTwoChoicesPlacer> {
    /// Power of two choices: the less loaded of the function's two hashed runners.
    public static func powerOfTwo(
        config: PlacerConfig = .default, metrics: PlacerMetrics = PlacerMetrics(),
        clock: some BeaconClock = MonotonicClock()
    ) -> Self {
        CallPlacer(order: LoadAwareOrder(), config: config, metrics: metrics, clock: clock)
    }
}
