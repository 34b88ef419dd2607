public import BeaconCore
public import CoreMetrics

/// One call's placement as a pure state machine: Fn's placer tracker and placement loop, shared
/// by every placer and driven by whoever owns the I/O and the clock — ``CallPlacer`` with real
/// runners and its `BeaconClock`, the placement simulation and the tests with virtual ones.
///
/// The driver answers every ``PlacementAction/tryRunner(_:)`` exactly once, on the same value,
/// before giving any other input: a load-aware order holds a lease on the runner until its answer,
/// so an attempt abandoned mid-try (or answered on a copy as well) would leak or double-release it.
///
/// Time is the core's `BeaconInstant` (nanoseconds on a monotonic clock), not
/// `ContinuousClock.Instant`: the standard library does not fix that type's layout, so every
/// copy of a struct holding one goes through runtime calls, which made a placement three times
/// slower.
///
/// Each input returns the next ``PlacementAction``. The loop it encodes: fetch the runner list; try
/// its runners in the order's pass, without pausing between them and checking both deadlines before
/// each; a NACK moves on, an accepted call ends the placement with that call's result; after a
/// pass, pause ``PlacerConfig/retryAllDelay`` (cut short by a deadline) and fetch again. Two
/// deadlines end it: the request's (or its cancellation) and the placer's own, which is only
/// checked between attempts, so it never cuts off a call a runner is running. An empty list whose
/// fetch failed with a ``FunctionError`` of status 502 ends it at once.
public struct PlacementAttempt<Order: PlacementOrder> {
    @usableFromInline let order: Order
    @usableFromInline let key: UInt64
    @usableFromInline let metrics: PlacerMetrics
    @usableFromInline let retryAllDelay: Duration
    @usableFromInline let start: BeaconInstant
    @usableFromInline let placerDeadline: BeaconInstant
    /// The request's deadline, meaningful only when ``hasRequestDeadline``: an optional instant
    /// would be handled through the standard library's value witnesses on every check.
    @usableFromInline let requestDeadline: BeaconInstant
    @usableFromInline let hasRequestDeadline: Bool
    @usableFromInline var pass: Order.Pass?
    @usableFromInline var listWasEmpty = false
    @usableFromInline var poolError: (any Error)?
    @usableFromInline var attempts = 0
    @usableFromInline var lastAttempt: BeaconInstant
    /// How the placement ended, once ``PlacementAction/finish`` has been returned.
    public var result: PlacementResult?

    /// Starts placing `call` at `now`.
    ///
    /// - Parameters:
    ///   - order: the runner order each pass walks.
    ///   - call: the call to place.
    ///   - config: the placer's timeouts and retry delay.
    ///   - metrics: where attempts, NACKs and outcomes are counted.
    ///   - requestDeadline: the client's deadline, if any; cancellation is reported with each input.
    ///   - now: the current time on the placer's clock.
    @inlinable
    public init<Call: RunnerCall>(
        order: Order,
        call: Call,
        config: PlacerConfig,
        metrics: PlacerMetrics,
        requestDeadline: BeaconInstant?,
        now: BeaconInstant
    ) {
        self.order = order
        self.key = order.key(for: call)
        self.metrics = metrics
        self.retryAllDelay = config.retryAllDelay
        self.start = now
        self.placerDeadline = now.advanced(by: config.timeout(for: call.model.type))
        self.requestDeadline = requestDeadline ?? now
        self.hasRequestDeadline = requestDeadline != nil
        self.lastAttempt = now
    }

    /// The first action: always ``PlacementAction/fetchRunners``.
    @inlinable
    public func begin() -> PlacementAction { .fetchRunners }

    /// The runner pool returned `runners`.
    @inlinable
    public mutating func runnersFetched(_ runners: [any Runner], now: BeaconInstant, isCancelled: Bool)
        -> PlacementAction
    {
        poolError = nil
        listWasEmpty = runners.isEmpty
        pass = order.makePass(over: runners, key: key)
        return nextAttempt(now: now, isCancelled: isCancelled)
    }

    /// The runner pool failed; this pass is over an empty list.
    @inlinable
    public mutating func fetchFailed(_ error: any Error, now: BeaconInstant, isCancelled: Bool) -> PlacementAction {
        poolError = error
        listWasEmpty = true
        pass = nil
        return endOfPass(now: now, isCancelled: isCancelled)
    }

    /// The runner of the last ``PlacementAction/tryRunner(_:)`` answered.
    @inlinable
    public mutating func runnerAnswered(_ answer: RunnerAnswer, now: BeaconInstant, isCancelled: Bool)
        -> PlacementAction
    {
        switch answer {
        case .placed(let error):
            pass?.attemptEnded(placed: true)
            pass = nil
            if error == nil {
                metrics.placedOK.increment()
            } else if error is CancellationError || requestExpired(at: now) {
                metrics.placedAbort.increment()
            } else {
                metrics.placedError.increment()
            }
            return finish(.placed(error), placed: true, now: now, isCancelled: isCancelled)
        case .refused(let refusal):
            pass?.attemptEnded(placed: false)
            recordRefusal(refusal, requestEnded: isCancelled || requestExpired(at: now))
            return nextAttempt(now: now, isCancelled: isCancelled)
        }
    }

    /// The instant to report with `answer`: `clock`'s, unless the runner took the call and the
    /// request has no deadline — then nothing reads the time, and reusing the last attempt's
    /// instant saves a clock read on the path every placed call takes.
    @inlinable
    public func instantAfterAnswer(_ answer: RunnerAnswer, clock: some BeaconClock) -> BeaconInstant {
        if case .placed = answer, !hasRequestDeadline { return lastAttempt }
        return clock.now
    }

    /// The wait of the last ``PlacementAction/wait(until:)`` ended (or the request was cancelled).
    @inlinable
    public mutating func woke(now: BeaconInstant, isCancelled: Bool) -> PlacementAction {
        isDone(now: now, isCancelled: isCancelled) ? giveUp(now: now, isCancelled: isCancelled) : .fetchRunners
    }

    @inlinable
    mutating func nextAttempt(now: BeaconInstant, isCancelled: Bool) -> PlacementAction {
        guard !isDone(now: now, isCancelled: isCancelled), let index = pass?.nextRunner() else {
            return endOfPass(now: now, isCancelled: isCancelled)
        }
        attempts += 1
        lastAttempt = now
        return .tryRunner(index)
    }

    @inlinable
    mutating func endOfPass(now: BeaconInstant, isCancelled: Bool) -> PlacementAction {
        pass = nil
        if listWasEmpty {
            metrics.emptyLists.increment()
            if let failure = poolError as? any FunctionError, failure.statusCode == 502 {
                return giveUp(now: now, isCancelled: isCancelled)
            }
        }
        if isDone(now: now, isCancelled: isCancelled) { return giveUp(now: now, isCancelled: isCancelled) }
        var wake = now.advanced(by: retryAllDelay)
        if placerDeadline < wake { wake = placerDeadline }
        if hasRequestDeadline && requestDeadline < wake { wake = requestDeadline }
        return .wait(until: wake)
    }

    @inlinable
    func recordRefusal(_ refusal: RunnerRefusal, requestEnded: Bool) {
        switch refusal {
        case .busy:
            metrics.retryBusy.increment()
        case .closed:
            metrics.retryError.increment()
        case .notDelivered(let error):
            // Fn does not count a NACK caused by the request's own end as a retry error.
            if !(requestEnded || error is CancellationError) { metrics.retryError.increment() }
        }
    }

    @inlinable
    mutating func giveUp(now: BeaconInstant, isCancelled: Bool) -> PlacementAction {
        if let poolError {
            metrics.poolErrors.increment()
            return finish(.notPlaced(poolError), placed: false, now: now, isCancelled: isCancelled)
        }
        return finish(.notPlaced(CallPlacementError.serverBusy), placed: false, now: now, isCancelled: isCancelled)
    }

    @inlinable
    mutating func finish(_ result: PlacementResult, placed: Bool, now: BeaconInstant, isCancelled: Bool)
        -> PlacementAction
    {
        if isCancelled {
            metrics.clientCancelled.increment()
        } else if requestExpired(at: now) {
            metrics.clientTimeouts.increment()
        }
        if !placed && now >= placerDeadline { metrics.placerTimeouts.increment() }
        metrics.attempts.record(attempts)
        metrics.latency.recordNanoseconds(
            Int64(clamping: (placed ? lastAttempt : now).nanoseconds &- start.nanoseconds))
        self.result = result
        return .finish
    }

    @inlinable
    func isDone(now: BeaconInstant, isCancelled: Bool) -> Bool {
        isCancelled || now >= placerDeadline || requestExpired(at: now)
    }

    @inlinable
    func requestExpired(at now: BeaconInstant) -> Bool {
        hasRequestDeadline && now >= requestDeadline
    }
}
