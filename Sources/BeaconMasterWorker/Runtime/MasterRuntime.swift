public import BeaconCore
import BeaconPrimitives
import Synchronization

/// A running master: the thin shell around ``WorkerManager`` that owns the transport, the store
/// and the clock.
///
/// It answers the pings on its executor that ``WorkerManager/answer(to:)`` answers, feeds pings
/// and statuses to the manager, wakes when the
/// manager's next deadline is due, and publishes the manager's events on ``events`` in order.
/// Starting it persists a new epoch; if the master ran before (its metadata says initialised),
/// it recovers the workers its predecessor left and waits for them first.
///
/// Every wait runs on the clock it is started with: the system's by default, a `ManualClock` in
/// a test, where offline timeouts and recovery pass as fast as the test advances the clock.
///
/// ```swift
/// let store = try SQLiteMasterWorkerStore(path: "/var/lib/job-7/master.sqlite")   // BeaconMasterWorkerSQLite
/// let master = try await MasterRuntime.start(
///     id: MasterID("job-7"), executor: ExecutorID("node-a"), transport: transport, store: store)
/// let epoch = try await master.createWorker(WorkerID("job-7-task-1"), on: ExecutorID("node-b"))
/// // … start the worker on node-b with `epoch` (see WorkerRuntime) …
/// for await event in master.events { print(event) }
/// ```
public final class MasterRuntime: LongRunningService {
    public let id: MasterID
    public let executor: ExecutorID
    /// This run's epoch.
    public let epoch: Epoch
    /// Whether this is the master's first start (false: it recovered from a predecessor).
    public let isFirstStart: Bool
    /// Online, offline, status and dispatch-failure events, in the order they happened. Ends
    /// when the master stops. The stream buffers without bound (every status message is an
    /// event), so read it for as long as the master runs.
    public let events: AsyncStream<WorkerEvent>

    private let manager: PosixMutex<WorkerManager<ErasedClock>>
    private let clock: ErasedClock
    private let eventSink: AsyncStream<WorkerEvent>.Continuation
    private let transport: any MessageTransport
    private let store: any MasterWorkerStore
    private let stopped = Latch<Result<Void, MasterWorkerError>>()
    private let ready = Latch<Result<Void, MasterWorkerError>>()
    /// Whether `ready` has been settled: read on every message, so kept out of its lock.
    private let readyAnnounced = Atomic<Bool>(false)
    private let loops = PosixMutex<[Task<Void, Never>]>([])
    private let metadata: PosixMutex<MasterMetadata>

    /// Starts the master: a new epoch, its metadata saved, a mailbox on `executor`, and — after a
    /// fail-over — recovery, which returns once every recovered worker has pinged or the offline
    /// timeout has passed. The metadata is then saved as initialised.
    ///
    /// - Parameters:
    ///   - id: the job's master.
    ///   - executor: the executor this master runs on; workers send it their pings.
    ///   - address: the executor's network address, saved in the metadata for workers to find.
    ///   - transport: how messages reach the workers' executors.
    ///   - store: where epochs, metadata and worker statuses persist.
    ///   - configuration: the heartbeat interval and timeouts, shared with the workers.
    ///   - clock: what offline timeouts, the recovery wait and pong reply times are measured on.
    ///     Workers may run on other clocks: a pong echoes the worker's own send time.
    ///   - mailboxCapacity: pings and statuses that may wait unread; a worker whose ping finds the
    ///     mailbox full gets no pong and retries on its next interval.
    ///   - capacity: the most workers (including tombstones) the master holds at once.
    /// - Throws: ``MasterWorkerError/storage(_:)``, ``MasterWorkerError/staleMaster(_:ownEpoch:seen:)``
    ///   when a master that drew a newer epoch has saved its start first, or what opening the
    ///   mailbox throws.
    public static func start(
        id: MasterID, executor: ExecutorID, address: String = "", transport: any MessageTransport,
        store: any MasterWorkerStore, configuration: TimeoutConfiguration = .default,
        clock: some BeaconClock = MonotonicClock(), mailboxCapacity: Int = 65_536, capacity: Int = 1 << 20
    ) async throws(MasterWorkerError) -> MasterRuntime {
        // Whatever can refuse this start comes before it saves its epoch: a start that failed
        // after taking over the job's record would have fenced out the master running it, and
        // left the job with none. (Drawing an epoch fences nobody; saving it does.)
        let clock = ErasedClock(clock)
        let mailbox = try transport.mailbox(
            on: executor, topics: [MasterWorkerTopic.ping(master: id), MasterWorkerTopic.status(master: id)],
            capacity: mailboxCapacity)
        var metadata: MasterMetadata
        let isFirstStart: Bool
        let manager: WorkerManager<ErasedClock>
        do {
            metadata = try await store.loadMaster(id) ?? MasterMetadata(id: id)
            metadata.epoch = try await store.generateEpoch(for: id)
            metadata.executor = executor
            metadata.address = address
            manager = try WorkerManager(
                master: id, epoch: metadata.epoch, configuration: configuration, clock: clock, capacity: capacity)
            try await store.saveMaster(metadata)
            isFirstStart = metadata.state == .uninitialized
            if !isFirstStart { manager.recover(try await store.loadWorkerStatuses(master: id)) }
        } catch {
            mailbox.close()
            throw error
        }
        let runtime = MasterRuntime(
            id: id, executor: executor, metadata: metadata, isFirstStart: isFirstStart, manager: manager,
            clock: clock, transport: transport, store: store)
        runtime.startLoops(mailbox: mailbox)
        do {
            try await runtime.waitUntilReady()
            metadata.state = .initialized
            metadata.errorMessage = ""
            try await runtime.recordOutcome(metadata)
        } catch {
            runtime.stop()
            throw error
        }
        return runtime
    }

    private init(
        id: MasterID, executor: ExecutorID, metadata: MasterMetadata, isFirstStart: Bool,
        manager: WorkerManager<ErasedClock>, clock: ErasedClock, transport: any MessageTransport,
        store: any MasterWorkerStore
    ) {
        self.id = id
        self.executor = executor
        self.epoch = metadata.epoch
        self.isFirstStart = isFirstStart
        self.manager = PosixMutex(manager)
        self.clock = clock
        self.metadata = PosixMutex(metadata)
        self.transport = transport
        self.store = store
        (events, eventSink) = AsyncStream.makeStream(of: WorkerEvent.self)
    }

    // MARK: Loops

    private func startLoops(mailbox: MessageMailbox) {
        let receiver = Task { [self] in
            while let batch = await mailbox.nextBatch() {
                receive(batch)
            }
            mailbox.close()
            stop(with: .success(()))
        }
        let timer = Task { [self] in await runTimer() }
        loops.withLock { $0 = [receiver, timer] }
        // A ping already waiting in the mailbox may have stopped the master before the loops
        // were recorded, when `stop` had nothing to cancel.
        if stopped.value != nil {
            receiver.cancel()
            timer.cancel()
        }
    }

    /// Answers the batch's pings, then hands the batch to the manager in arrival order under one
    /// lock. The pongs are chosen under the lock (``WorkerManager/answer(to:)``) but go out
    /// outside it, so a send never holds it; a ping counts only once its pong could be sent (a
    /// worker that cannot hear the master should not be kept online by it). When the manager
    /// finds a newer master part-way, the pings after it were answered already: this master stops
    /// at once, so its workers hear from it for at most one more interval. Likewise a worker the
    /// timer takes offline between the two locks gets one last pong: it has gone a whole offline
    /// timeout without a counted ping, and hears nothing more.
    private func receive(_ batch: [MessageDelivery]) {
        var answered = [Bool](repeating: false, count: batch.count)
        let pongs = manager.withLock { manager in
            batch.map { delivery -> HeartbeatPong? in
                guard case .ping(let ping) = delivery.message else { return nil }
                return manager.answer(to: ping)
            }
        }
        for (position, delivery) in batch.enumerated() {
            guard case .ping(let ping) = delivery.message, let pong = pongs[position] else { continue }
            answered[position] = transport.trySend(
                .pong(pong), topic: MasterWorkerTopic.pong(master: id, worker: ping.fromWorker), from: executor,
                to: delivery.sender)
        }
        let result: Result<Void, MasterWorkerError> = manager.withLock { manager in
            // Deadlines are the timer's business: a message only ever adds events.
            defer { publishEvents(of: manager) }
            do throws(MasterWorkerError) {
                for (position, delivery) in batch.enumerated() {
                    switch delivery.message {
                    case .ping(let ping):
                        if answered[position] { try manager.handleHeartbeat(ping, from: delivery.sender) }
                    case .status(let message):
                        try manager.handleStatus(message)
                    case .pong, .statusChange:
                        break
                    }
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        if case .failure(let error) = result { stop(with: .failure(error)) }
    }

    /// Wakes at the manager's next deadline. Every worker's deadline is its last ping plus the
    /// same offline timeout, so a deadline added while this sleeps is never earlier than the one
    /// it sleeps towards; the one-second cap only matters when the wheel was empty.
    private func runTimer() async {
        while !Task.isCancelled {
            let wake: BeaconInstant?
            do {
                wake = try manager.withLock { (manager) throws(MasterWorkerError) in
                    defer { publishEvents(of: manager) }
                    return try manager.advance()
                }
            } catch {
                stop(with: .failure(error))
                return
            }
            let limit = clock.now.advanced(by: .seconds(1))
            do {
                try await clock.sleep(until: min(wake ?? limit, limit), tolerance: nil)
            } catch {
                return
            }
        }
    }

    private func publishEvents(of manager: WorkerManager<ErasedClock>) {
        while let event = manager.nextEvent() { eventSink.yield(event) }
        if !readyAnnounced.load(ordering: .relaxed), manager.isReady {
            readyAnnounced.store(true, ordering: .relaxed)
            ready.settle(.success(()))
        }
    }

    // MARK: Workers

    /// Draws a new epoch for `worker` and records it as starting on `executor`. Start the worker
    /// there with the returned epoch; it comes online with its first ping.
    ///
    /// - Throws: ``MasterWorkerError/duplicateWorker(_:)``, ``MasterWorkerError/masterClosed``,
    ///   ``MasterWorkerError/storage(_:)``.
    public func createWorker(_ worker: WorkerID, on executor: ExecutorID) async throws(MasterWorkerError) -> Epoch {
        try checkRunning()
        if manager.withLock({ $0.worker(worker) }) != nil { throw .duplicateWorker(worker) }
        let epoch = try await store.generateEpoch(for: id)
        // Stopped while the epoch was drawn (a newer master's message, say): no worker to start.
        try checkRunning()
        try manager.withLock { (manager) throws(MasterWorkerError) in
            try manager.workerStarting(worker, on: executor, epoch: epoch)
        }
        return epoch
    }

    /// Tells the master a worker could not be started; ``WorkerEvent/dispatchFailed(_:error:)``
    /// follows on ``events``.
    public func workerCreationFailed(_ worker: WorkerID, error: String) throws(MasterWorkerError) {
        try manager.withLock { (manager) throws(MasterWorkerError) in
            try manager.workerCreationFailed(worker, error: error)
            publishEvents(of: manager)
        }
    }

    /// Asks an online worker to stop; its cancel hook runs once.
    ///
    /// - Returns: whether the request could be handed to the transport.
    public func requestStop(_ worker: WorkerID) throws(MasterWorkerError) -> Bool {
        let (request, executor) = try manager.withLock { (manager) throws(MasterWorkerError) in
            try manager.statusChangeRequest(for: worker, expecting: .stopped)
        }
        return transport.trySend(
            .statusChange(request), topic: MasterWorkerTopic.statusChange(master: id, worker: worker),
            from: self.executor, to: executor)
    }

    /// Deletes a tombstone's persisted status, then forgets it so its ID can be reused.
    /// Cleaning a worker that is already gone is fine: its persisted status, if any, is deleted
    /// all the same, so a clean cut short by a failed store call can be repeated. Reuse the ID
    /// only once this returns: a worker created under it meanwhile could have its first status
    /// deleted with the tombstone's.
    ///
    /// - Throws: ``MasterWorkerError/invalidWorkerState(_:_:)`` if the worker is not a tombstone,
    ///   ``MasterWorkerError/masterClosed`` once the master has stopped,
    ///   ``MasterWorkerError/staleMaster(_:ownEpoch:seen:)`` (nothing deleted, and the master
    ///   stops) if a newer master has started on the job's record, ``MasterWorkerError/storage(_:)``.
    public func cleanTombstone(_ worker: WorkerID) async throws(MasterWorkerError) {
        try checkRunning()
        if let snapshot = manager.withLock({ $0.worker(worker) }), snapshot.phase != .tombstone {
            throw .invalidWorkerState(worker, "only a tombstone can be cleaned; it is \(snapshot.phase)")
        }
        // Only while this master's epoch is the record's: a stale master that cannot hear of its
        // successor must not delete a status the successor will recover the worker from.
        do {
            try await store.deleteWorkerStatus(worker: worker, master: id, masterEpoch: epoch)
        } catch {
            if case .staleMaster = error { stop(with: .failure(error)) }
            throw error
        }
        try manager.withLock { (manager) throws(MasterWorkerError) in _ = try manager.cleanTombstone(worker) }
    }

    /// Every worker as the master sees it now.
    public var workers: [WorkerID: WorkerSnapshot] { manager.withLock { $0.workers } }

    /// Whether recovery is over.
    public var isReady: Bool { manager.withLock { $0.isReady } }

    // MARK: Stopping

    /// Persists how the master ended (finished, stopped or failed, with the error and detail) and
    /// stops it.
    ///
    /// - Throws: ``MasterWorkerError/staleMaster(_:ownEpoch:seen:)`` (and writes nothing) if a
    ///   newer master has started on the same record since.
    public func exit(_ reason: ExitReason, error: String? = nil, detail: [UInt8] = []) async throws(MasterWorkerError) {
        defer { stop(with: .success(())) }
        var record = metadata.withLock { $0 }
        record.state = reason.masterState
        record.errorMessage = error ?? ""
        record.detail = detail
        try await recordOutcome(record)
    }

    /// Stops the master without persisting an exit (its workers will find a new master after a
    /// fail-over). ``events`` ends.
    public func stop() {
        stop(with: .success(()))
    }

    /// Waits until the master stops; throws the error that stopped it, such as
    /// ``MasterWorkerError/staleMaster(_:ownEpoch:seen:)`` when a newer master took over.
    public func waitUntilStopped() async throws(MasterWorkerError) {
        try await stopped.wait().get()
    }

    /// Runs until the master stops (``exit(_:error:detail:)``, ``stop()``, or a newer master
    /// taking over), or until the task is cancelled, which stops it as ``stop()`` does: the
    /// `LongRunningService` shape, so a `ServiceGroup` runs a started master. Throws what
    /// ``waitUntilStopped()`` throws.
    public func run() async throws(MasterWorkerError) {
        try await stopped.wait(onCancel: { stop() }).get()
    }

    private func stop(with outcome: Result<Void, MasterWorkerError>) {
        guard stopped.settle(outcome) else { return }
        ready.settle(outcome.flatMap { .failure(.masterClosed) })
        for task in loops.withLock({ $0 }) { task.cancel() }
        eventSink.finish()
    }

    private func checkRunning() throws(MasterWorkerError) {
        if stopped.value != nil { throw .masterClosed }
    }

    private func waitUntilReady() async throws(MasterWorkerError) {
        try await ready.wait().get()
    }

    /// Writes the master's state, error and detail, only while its epoch is still the record's.
    private func recordOutcome(_ record: MasterMetadata) async throws(MasterWorkerError) {
        try await store.updateMasterOutcome(record)
        metadata.withLock { $0 = record }
    }
}
