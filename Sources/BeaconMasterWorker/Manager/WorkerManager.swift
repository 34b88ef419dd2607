public import BeaconCore

/// The master's side of the protocol as a pure state machine: it answers pings, fences stale
/// epochs, tracks each worker's deadline on the core's heartbeat wheel, and queues online,
/// offline and status events in one FIFO.
///
/// It performs no I/O and never sleeps. Its owner feeds it messages, calls ``advance()`` at the
/// instant it returns, and drains ``nextEvent()``; ``MasterRuntime`` is that owner over a real
/// transport and store, tests are with a `ManualClock`. One owner at a time: the type is not
/// `Sendable`.
///
/// Unlike TiFlow, which scans every worker once a second, deadlines live on the wheel: a worker
/// that stops pinging is declared offline within one wheel slot (1 ms) of its timeout, and a
/// ping costs a dictionary lookup and one wheel beat whatever the number of workers.
public final class WorkerManager<Clock: BeaconClock> {
    /// The master this manager works for.
    public let master: MasterID
    /// The master's epoch: pings and status messages must carry exactly this one.
    public let epoch: Epoch
    public let configuration: TimeoutConfiguration
    /// The wheel holding every online or created worker's offline deadline.
    public let wheel: HeartbeatWheel<Clock>
    private let offlineTTL: HeartbeatTTL
    private var table = WorkerTable()
    /// Wheel slot index → worker, to find the worker of an expired handle.
    private var workerByHandle: [UInt32: WorkerID] = [:]
    private var events: [WorkerEvent] = []
    private var eventHead = 0
    /// When a fail-over recovery stops waiting for silent workers; nil once the manager is ready.
    private var recoveryDeadline: BeaconInstant?
    private var waitingCount = 0

    /// A manager for a master that starts at `epoch`.
    ///
    /// - Parameters:
    ///   - master: the job's master.
    ///   - epoch: the epoch this master drew when it started.
    ///   - configuration: the heartbeat interval and timeouts.
    ///   - clock: what the offline timeouts run on.
    ///   - recovering: the statuses this master's predecessor persisted (empty on a first start).
    ///     Finished workers are skipped; the others wait up to the offline timeout for a heartbeat
    ///     to this master, and those still silent then become tombstones without an offline event.
    ///   - capacity: the most workers (including tombstones) the manager holds at once.
    /// - Throws: ``MasterWorkerError/heartbeatWheel(_:)`` if the wheel cannot be built for this
    ///   configuration and capacity.
    public init(
        master: MasterID, epoch: Epoch, configuration: TimeoutConfiguration = .default, clock: Clock,
        recovering: [WorkerID: WorkerStatus] = [:], capacity: Int = 1 << 20
    ) throws(MasterWorkerError) {
        self.master = master
        self.epoch = epoch
        self.configuration = configuration
        do {
            offlineTTL = try HeartbeatTTL(configuration.offlineTimeout)
            // About 32 k slots across the timeout, never finer than 1 ms: a 20 s timeout is
            // detected within 1 ms and the slots take 128 KiB. (10 ms slots, tried, saved no
            // measurable CPU at 100 k workers: the sweeps are not where a master's time goes.)
            let slotWidth = min(max(configuration.offlineTimeout / 32_768, .milliseconds(1)), .seconds(1))
            wheel = try HeartbeatWheel(
                // No stall guard: it extends deadlines after a long gap between advances, which
                // protects beats stamped from a stale published clock; this manager publishes
                // none, and a master that was paused must still declare its silent workers
                // offline when it resumes.
                configuration: HeartbeatWheelConfiguration(
                    slotWidth: slotWidth, maximumTTL: configuration.offlineTimeout, capacity: capacity,
                    stallThreshold: nil),
                clock: clock)
        } catch {
            throw .heartbeatWheel(error.description)
        }
        recover(recovering)
    }

    /// Takes over the statuses a predecessor persisted, as `init(…recovering:…)` does, for
    /// ``MasterRuntime``, which builds its manager before it reads them: it checks its arguments
    /// before it takes over the job's record, and reads the statuses only once it has. Once, before
    /// any message or worker; finished workers are skipped.
    func recover(_ statuses: [WorkerID: WorkerStatus]) {
        precondition(table.count == 0, "a manager recovers once, before it holds any worker")
        for (worker, status) in statuses where status.state != .finished {
            table.insert(WorkerTable.Record(id: worker, status: status), phase: .waiting)
        }
        waitingCount = table.count
        if waitingCount > 0 {
            recoveryDeadline = wheel.clock.now.advanced(by: configuration.offlineTimeout)
        }
    }

    /// Whether the manager has finished recovering (always, after a first start).
    public var isReady: Bool { recoveryDeadline == nil }

    // MARK: Creating workers

    /// Records a worker about to be started on `executor` with `epoch` (TiFlow's
    /// `BeforeStartingWorker`). Its first heartbeat makes it online; without one it goes offline
    /// after the offline timeout.
    ///
    /// - Throws: ``MasterWorkerError/duplicateWorker(_:)`` while an entry with this ID exists
    ///   (clean a tombstone first), ``MasterWorkerError/heartbeatWheel(_:)`` when the manager
    ///   is full.
    public func workerStarting(_ worker: WorkerID, on executor: ExecutorID, epoch: Epoch) throws(MasterWorkerError) {
        guard table.liveness(of: worker) == nil else { throw .duplicateWorker(worker) }
        let handle = try register()
        table.insert(
            WorkerTable.Record(id: worker, executor: executor, status: WorkerStatus(state: .created, epoch: epoch)),
            phase: .created, handle: handle)
        workerByHandle[handle.index] = worker
    }

    /// Forgets a worker whose creation failed before it ran, and queues
    /// ``WorkerEvent/dispatchFailed(_:error:)``.
    ///
    /// - Throws: ``MasterWorkerError/unknownWorker(_:)``, or
    ///   ``MasterWorkerError/invalidWorkerState(_:_:)`` if the worker has already heartbeated.
    public func workerCreationFailed(_ worker: WorkerID, error: String) throws(MasterWorkerError) {
        guard let entry = table.liveness(of: worker) else { throw .unknownWorker(worker) }
        guard entry.phase == .created else {
            throw .invalidWorkerState(
                worker, "only a created worker that never heartbeated can fail its creation; it is \(entry.phase)")
        }
        forgetHandle(of: worker)
        table.remove(worker)
        events.append(.dispatchFailed(worker, error: error))
    }

    // MARK: Messages

    /// The pong for `ping`, or nil when its worker must hear nothing. Send it, and hand the ping
    /// to ``handleHeartbeat(_:from:)`` only if the pong could be sent (TiFlow's rule: an
    /// unreachable worker's ping does not count).
    ///
    /// A ping from another master epoch is answered, so that a worker of an earlier master learns
    /// this one; its finished flag is not echoed, since a ping of another epoch counts for nothing
    /// here. A running worker's ping this master would drop for its worker (unknown, of another
    /// epoch, offline or a tombstone) is not answered: pongs keep a worker's watchdog quiet, and a
    /// worker this master does not count must stop on its own before its work runs elsewhere.
    /// (TiFlow answers every ping, so a worker its master never heard of, say one created just
    /// before the master crashed, runs on beside the copy the next master creates.) A finished
    /// ping of this epoch is answered and acknowledged whoever sent it: an acknowledged exit can
    /// only stop a worker, and one whose exit the previous master took in before it crashed (its
    /// finished status is not recovered) must not wait out its exit timeout.
    public func answer(to ping: HeartbeatPing) -> HeartbeatPong? {
        var pong = HeartbeatPong(answering: ping, masterEpoch: epoch, at: wheel.clock.now)
        guard ping.masterEpoch == epoch else {
            pong.isFinished = false
            return pong
        }
        if ping.isFinished { return pong }
        guard let entry = table.liveness(of: ping.fromWorker), entry.workerEpoch == ping.workerEpoch,
            entry.phase != .offline, entry.phase != .tombstone
        else { return nil }
        return pong
    }

    /// Processes a worker's ping: epochs are fenced, the worker's deadline moves to now + the
    /// offline timeout, a created worker comes online, and a finished one goes offline.
    ///
    /// - Throws: ``MasterWorkerError/staleMaster(_:ownEpoch:seen:)`` when the ping carries a newer
    ///   master epoch: another master runs this job and this one must stop.
    @discardableResult
    public func handleHeartbeat(_ ping: HeartbeatPing, from executor: ExecutorID) throws(MasterWorkerError)
        -> MessageVerdict
    {
        if let verdict = try fenceMasterEpoch(ping.masterEpoch) { return verdict }
        // One hash of the ID, then plain values only: a steady ping copies no strings.
        let worker = ping.fromWorker
        guard let entry = table.liveness(of: worker) else { return .droppedUnknownWorker }
        if ping.workerEpoch < entry.workerEpoch { return .droppedStaleWorkerEpoch }
        if ping.workerEpoch > entry.workerEpoch { return .droppedUnknownWorkerEpoch }
        switch entry.phase {
        case .offline, .tombstone:
            return .droppedOfflineWorker
        case .created, .online:
            if let handle = entry.handle {
                do { try wheel.beat(handle, ttl: offlineTTL) } catch { return .droppedOfflineWorker }
            }
            if entry.phase == .online && !ping.isFinished { return .accepted }
        case .waiting:
            let handle = try register()
            workerByHandle[handle.index] = worker
            table.update(worker) { $0.handle = handle }
        }
        let receivedFinish = entry.receivedFinish || ping.isFinished
        table.update(worker) {
            $0.receivedFinish = receivedFinish
            $0.phase = .online
        }
        table.updateRecord(entry) { $0.executor = executor }
        switch entry.phase {
        case .waiting:
            waitingCount -= 1
            if waitingCount == 0 { finishRecovery() }
        case .created:
            events.append(.online(worker, executor: executor))
            if receivedFinish { markOffline(worker) }
        case .online:
            if receivedFinish && isReady { markOffline(worker) }
        case .offline, .tombstone:
            break
        }
        return .accepted
    }

    /// Records a worker's status and queues ``WorkerEvent/statusUpdated(_:_:)``. The master epoch
    /// is fenced, and the status's own epoch must be the worker's.
    ///
    /// - Throws: ``MasterWorkerError/staleMaster(_:ownEpoch:seen:)`` for a newer master epoch.
    @discardableResult
    public func handleStatus(_ message: WorkerStatusMessage) throws(MasterWorkerError) -> MessageVerdict {
        if let verdict = try fenceMasterEpoch(message.masterEpoch) { return verdict }
        guard let entry = table.liveness(of: message.worker) else { return .droppedUnknownWorker }
        // TiFlow checks no worker epoch here and adopts the status's; a late status from an
        // earlier run of the same ID would then fence out the current run's pings. A status
        // must carry the epoch the worker was created with.
        if message.status.epoch < entry.workerEpoch { return .droppedStaleWorkerEpoch }
        if message.status.epoch > entry.workerEpoch { return .droppedUnknownWorkerEpoch }
        guard entry.phase != .offline, entry.phase != .tombstone else { return .droppedOfflineWorker }
        table.updateRecord(entry) { $0.status = message.status }
        events.append(.statusUpdated(message.worker, message.status))
        return .accepted
    }

    private func fenceMasterEpoch(_ seen: Epoch) throws(MasterWorkerError) -> MessageVerdict? {
        if seen > epoch { throw .staleMaster(master, ownEpoch: epoch, seen: seen) }
        if seen < epoch { return .droppedStaleMasterEpoch }
        return nil
    }

    /// A request asking an online worker to move to `state` (``WorkerState/stopped`` cancels it),
    /// with the executor to send it to.
    ///
    /// - Throws: ``MasterWorkerError/unknownWorker(_:)``, or
    ///   ``MasterWorkerError/invalidWorkerState(_:_:)`` if the worker is not online.
    public func statusChangeRequest(
        for worker: WorkerID, expecting state: WorkerState
    ) throws(MasterWorkerError) -> (request: StatusChangeRequest, executor: ExecutorID) {
        guard let entry = table.liveness(of: worker) else { throw .unknownWorker(worker) }
        guard entry.phase == .online, let executor = table.record(entry).executor else {
            throw .invalidWorkerState(
                worker, "only an online worker can be asked to change state; it is \(entry.phase)")
        }
        let request = StatusChangeRequest(
            sendTime: wheel.clock.now, fromMaster: master, masterEpoch: epoch, expectedState: state)
        return (request, executor)
    }

    // MARK: Time

    /// Ends a recovery whose wait is over and declares offline every worker whose deadline has
    /// passed by the clock's current reading.
    ///
    /// - Returns: when to call again at the latest (nil: only after the next message).
    /// - Throws: ``MasterWorkerError/heartbeatWheel(_:)`` if the clock went backwards or another
    ///   caller is advancing the same manager.
    @discardableResult
    public func advance() throws(MasterWorkerError) -> BeaconInstant? {
        let now = wheel.clock.now
        if let deadline = recoveryDeadline, now >= deadline { finishRecovery() }
        let nextDue: BeaconInstant?
        do {
            nextDue = try wheel.advance(to: now) { expiry in
                for handle in expiry.handles { expire(handle) }
            }
        } catch {
            throw .heartbeatWheel(error.description)
        }
        switch (recoveryDeadline, nextDue) {
        case (let recovery?, let due?): return min(recovery, due)
        case (let recovery?, nil): return recovery
        case (nil, let due): return due
        }
    }

    private func expire(_ handle: HeartbeatHandle) {
        guard let worker = workerByHandle[handle.index], let entry = table.liveness(of: worker), entry.handle == handle
        else {
            return
        }
        workerByHandle[handle.index] = nil
        table.update(worker) { $0.handle = nil }
        guard entry.phase == .created || entry.phase == .online else { return }
        markOffline(worker)
    }

    private func markOffline(_ worker: WorkerID) {
        forgetHandle(of: worker)
        table.update(worker) { $0.phase = .offline }
        guard let entry = table.liveness(of: worker) else { return }
        events.append(.offline(worker, reason: Self.offlineReason(worker, table.record(entry).status)))
    }

    /// The reason an offline worker is gone, from the last status it reported.
    public static func offlineReason(_ worker: WorkerID, _ status: WorkerStatus) -> MasterWorkerError {
        switch status.state {
        case .finished: .workerFinished
        case .stopped: .workerCanceled
        case .error: .workerFailed(status.errorMessage)
        case .normal, .created, .initialized: .workerOffline(worker, lastError: status.errorMessage)
        }
    }

    private func finishRecovery() {
        recoveryDeadline = nil
        waitingCount = 0
        for worker in table.workers {
            guard let entry = table.liveness(of: worker),
                entry.phase == .waiting || (entry.receivedFinish && entry.phase == .online)
            else { continue }
            forgetHandle(of: worker)
            table.update(worker) { $0.phase = .tombstone }
        }
    }

    private func register() throws(MasterWorkerError) -> HeartbeatHandle {
        do {
            return try wheel.register(ttl: offlineTTL)
        } catch {
            throw .heartbeatWheel(error.description)
        }
    }

    private func forgetHandle(of worker: WorkerID) {
        guard let handle = table.liveness(of: worker)?.handle else { return }
        workerByHandle[handle.index] = nil
        table.update(worker) { $0.handle = nil }
        _ = try? wheel.remove(handle)
    }

    // MARK: Events and workers

    /// The oldest undelivered event, or nil. Delivering an offline event turns the worker into a
    /// tombstone.
    public func nextEvent() -> WorkerEvent? {
        guard eventHead < events.count else { return nil }
        let event = events[eventHead]
        eventHead += 1
        if eventHead == events.count {
            events.removeAll(keepingCapacity: true)
            eventHead = 0
        }
        if case .offline(let worker, _) = event, table.liveness(of: worker)?.phase == .offline {
            table.update(worker) { $0.phase = .tombstone }
        }
        return event
    }

    /// Removes a tombstone so its ID can be reused. Returns false if there was no such worker
    /// (cleaning twice is fine).
    ///
    /// - Throws: ``MasterWorkerError/invalidWorkerState(_:_:)`` if the worker is not a tombstone.
    @discardableResult
    public func cleanTombstone(_ worker: WorkerID) throws(MasterWorkerError) -> Bool {
        guard let entry = table.liveness(of: worker) else { return false }
        guard entry.phase == .tombstone else {
            throw .invalidWorkerState(worker, "only a tombstone can be cleaned; it is \(entry.phase)")
        }
        table.remove(worker)
        return true
    }

    /// One worker as the master sees it, or nil.
    public func worker(_ worker: WorkerID) -> WorkerSnapshot? {
        table.liveness(of: worker).map(snapshot)
    }

    /// Every worker the master holds, tombstones included.
    public var workers: [WorkerID: WorkerSnapshot] {
        Dictionary(
            uniqueKeysWithValues: table.workers.compactMap { worker in
                table.liveness(of: worker).map { (worker, snapshot($0)) }
            })
    }

    private func snapshot(_ entry: WorkerTable.Liveness) -> WorkerSnapshot {
        let record = table.record(entry)
        return WorkerSnapshot(
            phase: entry.phase, executor: record.executor, status: record.status, receivedFinish: entry.receivedFinish)
    }

    /// How many workers the master holds, tombstones included.
    public var count: Int { table.count }
}
