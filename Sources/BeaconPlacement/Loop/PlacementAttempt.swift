public import BeaconCore

/// One call's placement as a pure state machine: Fn's placer tracker and placement loop, shared
/// by every placer and driven by whoever owns the I/O and the clock — ``CallPlacer`` with real
/// runners and time, the placement simulation with virtual ones.
///
/// Each input returns the next ``Action``. The loop it encodes: fetch the runner list; try its
/// runners in the order's pass, without pausing between them and checking both deadlines
/// before each; a NACK moves on, an accepted call ends the placement with that call's result;
/// after a pass, pause ``PlacerConfig/retryAllDelay`` (cut short by a deadline) and fetch again.
/// Two deadlines end it: the request's (or its cancellation) and the placer's own, which is
/// only checked between attempts, so it never cuts off a call a runner is running. An empty
/// list whose fetch failed with a ``FunctionError`` of status 502 ends it at once.
public struct PlacementAttempt<Order: PlacementOrder> {
    /// What the driver does next.
    public enum Action {
        /// Fetch the runner list, then call ``runnersFetched(_:now:isCancelled:)`` or
        /// ``fetchFailed(_:now:isCancelled:)``.
        case fetchRunners
        /// Try the runner at this index of the last fetched list, then call
        /// ``runnerAnswered(_:now:isCancelled:)``.
        case tryRunner(Int)
        /// Wait until this instant (or until the request is cancelled), then call ``woke(now:isCancelled:)``.
        case wait(until: ContinuousClock.Instant)
        /// The placement is over.
        case finish(PlacementResult)
    }

    let order: Order
    let key: UInt64
    let metrics: PlacerMetrics
    let retryAllDelay: Duration
    let start: ContinuousClock.Instant
    let placerDeadline: ContinuousClock.Instant
    let requestDeadline: ContinuousClock.Instant?
    var pass: Order.Pass?
    var listWasEmpty = false
    var poolError: (any Error)?
    var attempts = 0
    var lastAttempt: ContinuousClock.Instant
    /// Whether a ``Action/finish(_:)`` has been returned.
    public private(set) var isFinished = false

    /// Starts placing `call` at `now`.
    ///
    /// - Parameters:
    ///   - requestDeadline: the client's deadline, if any; cancellation is reported with each input.
    public init<Call: RunnerCall>(
        order: Order,
        call: Call,
        config: PlacerConfig,
        metrics: PlacerMetrics,
        requestDeadline: ContinuousClock.Instant?,
        now: ContinuousClock.Instant
    ) {
        self.order = order
        self.key = order.key(for: call)
        self.metrics = metrics
        self.retryAllDelay = config.retryAllDelay
        self.start = now
        self.placerDeadline = now.advanced(by: config.timeout(for: call.model.type))
        self.requestDeadline = requestDeadline
        self.lastAttempt = now
    }

    /// The first action: always ``Action/fetchRunners``.
    public func begin() -> Action { .fetchRunners }

    /// The runner pool returned `runners`.
    public mutating func runnersFetched(_ runners: [any Runner], now: ContinuousClock.Instant, isCancelled: Bool) -> Action {
        poolError = nil
        listWasEmpty = runners.isEmpty
        pass = order.makePass(over: runners, key: key)
        return nextAttempt(now: now, isCancelled: isCancelled)
    }

    /// The runner pool failed; this pass is over an empty list.
    public mutating func fetchFailed(_ error: any Error, now: ContinuousClock.Instant, isCancelled: Bool) -> Action {
        poolError = error
        listWasEmpty = true
        pass = nil
        return endOfPass(now: now, isCancelled: isCancelled)
    }

    /// The runner of the last ``Action/tryRunner(_:)`` answered.
    public mutating func runnerAnswered(_ answer: RunnerAnswer, now: ContinuousClock.Instant, isCancelled: Bool) -> Action {
        switch answer {
        case .placed(let error):
            pass?.attemptEnded(placed: true)
            pass = nil
            if error == nil {
                metrics.placedOK.increment()
            } else if isCancelled || error is CancellationError || requestExpired(at: now) {
                metrics.placedAbort.increment()
            } else {
                metrics.placedError.increment()
            }
            return finish(.placed(error), placed: true, now: now, isCancelled: isCancelled)
        case .refused(let refusal):
            pass?.attemptEnded(placed: false)
            recordRefusal(refusal, isCancelled: isCancelled)
            return nextAttempt(now: now, isCancelled: isCancelled)
        }
    }

    /// The wait of the last ``Action/wait(until:)`` ended (or the request was cancelled).
    public mutating func woke(now: ContinuousClock.Instant, isCancelled: Bool) -> Action {
        isDone(now: now, isCancelled: isCancelled) ? giveUp(now: now, isCancelled: isCancelled) : .fetchRunners
    }

    mutating func nextAttempt(now: ContinuousClock.Instant, isCancelled: Bool) -> Action {
        guard !isDone(now: now, isCancelled: isCancelled), let index = pass?.nextRunner() else {
            return endOfPass(now: now, isCancelled: isCancelled)
        }
        attempts += 1
        lastAttempt = now
        return .tryRunner(index)
    }

    mutating func endOfPass(now: ContinuousClock.Instant, isCancelled: Bool) -> Action {
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
        if let requestDeadline, requestDeadline < wake { wake = requestDeadline }
        return .wait(until: wake)
    }

    func recordRefusal(_ refusal: RunnerRefusal, isCancelled: Bool) {
        switch refusal {
        case .busy:
            metrics.retryBusy.increment()
        case .closed:
            metrics.retryError.increment()
        case .notDelivered(let error):
            // Fn does not count a NACK caused by the request's own end as a retry error.
            if !(isCancelled || error is CancellationError) { metrics.retryError.increment() }
        }
    }

    mutating func giveUp(now: ContinuousClock.Instant, isCancelled: Bool) -> Action {
        if let poolError {
            metrics.poolErrors.increment()
            return finish(.notPlaced(poolError), placed: false, now: now, isCancelled: isCancelled)
        }
        return finish(.notPlaced(CallPlacementError.serverBusy), placed: false, now: now, isCancelled: isCancelled)
    }

    mutating func finish(_ result: PlacementResult, placed: Bool, now: ContinuousClock.Instant, isCancelled: Bool) -> Action {
        if isCancelled {
            metrics.clientCancelled.increment()
        } else if requestExpired(at: now) {
            metrics.clientTimeouts.increment()
        }
        if !placed && now >= placerDeadline { metrics.placerTimeouts.increment() }
        metrics.attempts.record(attempts)
        metrics.latency.recordNanoseconds(((placed ? lastAttempt : now) - start).nanosecondsRoundedUp)
        isFinished = true
        return .finish(result)
    }

    func isDone(now: ContinuousClock.Instant, isCancelled: Bool) -> Bool {
        isCancelled || now >= placerDeadline || requestExpired(at: now)
    }

    func requestExpired(at now: ContinuousClock.Instant) -> Bool {
        if let requestDeadline { return now >= requestDeadline }
        return false
    }
}
