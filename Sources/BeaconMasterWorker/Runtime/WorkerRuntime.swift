public import BeaconCore
import BeaconPrimitives
import Synchronization

/// A running worker: the thin shell around ``WorkerSession`` that pings its master, watches for
/// the master's silence, persists and reports its status, and leaves gracefully.
///
/// Pings, the watchdog, status retries and the exit's wait all run on the clock it is started
/// with: the system's by default, a `ManualClock` in a test.
///
/// ```swift
/// let worker = try await WorkerRuntime.start(
///     master: MasterID("job-7"), worker: WorkerID("job-7-task-1"), epoch: epoch,
///     executor: ExecutorID("node-b"), transport: transport, store: store,
///     onCancel: { print("asked to stop") })
/// try await worker.updateStatus(.normal)
/// try await worker.exit(.finished)       // returns once the master acknowledged
/// ```
public final class WorkerRuntime: LongRunningService {
    public let master: MasterID
    public let worker: WorkerID
    public let executor: ExecutorID

    private let session: PosixMutex<WorkerSession>
    private let transport: any MessageTransport
    private let store: any MasterWorkerStore
    private let onCancel: @Sendable () -> Void
    private let stopped = Latch<Result<Void, MasterWorkerError>>()
    private let exitAcknowledged = Latch<Result<Void, MasterWorkerError>>()
    private let reloading = PosixMutex(false)
    private let statusOrder = SerialGate()
    /// Set by `exit`: later status updates would overwrite the exit status.
    private let leaving = Atomic<Bool>(false)
    private let receiver = PosixMutex<Task<Void, Never>?>(nil)
    private let timer = PosixMutex<Task<Void, Never>?>(nil)
    private let clock: any BeaconClock

    /// Starts the worker: reads where its master runs from the store, opens its mailbox, starts
    /// pinging, and persists and reports its ``WorkerState/initialized`` status.
    ///
    /// - Parameters:
    ///   - master: the job's master, whose executor and epoch are read from `store`.
    ///   - worker: this worker.
    ///   - epoch: the worker epoch its master drew in ``MasterRuntime/createWorker(_:on:)``.
    ///   - executor: the executor this worker runs on; pongs and cancellations arrive there.
    ///   - transport: how messages reach the master's executor.
    ///   - store: where the master's metadata is read and this worker's statuses persist.
    ///   - configuration: the heartbeat interval and timeouts, the master's.
    ///   - clock: what pings, the master-silence watchdog and status retries wait on. The master
    ///     only ever echoes the worker's own readings back, so it may run on another clock.
    ///   - startTime: when the worker was submitted, on `clock`; its master-silence watchdog
    ///     counts from here (default, and at the latest: now).
    ///   - onCancel: runs once when the master asks the worker to stop.
    /// - Throws: ``MasterWorkerError/invalidWorkerState(_:_:)`` if the master has no metadata,
    ///   ``MasterWorkerError/storage(_:)``, ``MasterWorkerError/statusNotDelivered(master:after:)``.
    public static func start(
        master: MasterID, worker: WorkerID, epoch: Epoch, executor: ExecutorID, transport: any MessageTransport,
        store: any MasterWorkerStore, configuration: TimeoutConfiguration = .default,
        clock: some BeaconClock = MonotonicClock(), startTime: BeaconInstant? = nil,
        onCancel: @escaping @Sendable () -> Void = {}
    ) async throws(MasterWorkerError) -> WorkerRuntime {
        guard let metadata = try await store.loadMaster(master), let masterExecutor = metadata.executor else {
            throw .invalidWorkerState(worker, "master \(master) has never started: no executor to ping")
        }
        let now = clock.now
        // A start time in the future would push suicide past the master's offline deadline.
        let client = MasterClient(
            master: master, worker: worker, workerEpoch: epoch,
            masterInfo: MasterInfo(executor: masterExecutor, epoch: metadata.epoch),
            startTime: min(startTime ?? now, now),
            configuration: configuration)
        let mailbox = try transport.mailbox(
            on: executor,
            topics: [
                MasterWorkerTopic.pong(master: master, worker: worker),
                MasterWorkerTopic.statusChange(master: master, worker: worker),
            ],
            capacity: 64)
        let runtime = WorkerRuntime(
            master: master, worker: worker, executor: executor, session: WorkerSession(client: client, at: now),
            clock: clock, transport: transport, store: store, onCancel: onCancel)
        runtime.startLoops(mailbox: mailbox)
        do {
            try await runtime.updateStatus(.initialized)
        } catch {
            runtime.stop(with: .failure(error))
            throw error
        }
        return runtime
    }

    private init(
        master: MasterID, worker: WorkerID, executor: ExecutorID, session: WorkerSession, clock: any BeaconClock,
        transport: any MessageTransport, store: any MasterWorkerStore, onCancel: @escaping @Sendable () -> Void
    ) {
        self.master = master
        self.worker = worker
        self.executor = executor
        self.session = PosixMutex(session)
        self.clock = clock
        self.transport = transport
        self.store = store
        self.onCancel = onCancel
    }

    // MARK: Loops

    private func startLoops(mailbox: MessageMailbox) {
        receiver.withLock {
            $0 = Task { [self] in
                while let batch = await mailbox.nextBatch() {
                    for delivery in batch { receive(delivery) }
                }
                mailbox.close()
            }
        }
        restartTimer()
    }

    /// Replaces the timer task, so a tick brought forward (the exit's first finished ping) runs
    /// now rather than when the old task wakes.
    private func restartTimer() {
        let replaced = timer.withLock { timer in
            defer { timer = stopped.value == nil ? Task { [self] in await runTimer() } : nil }
            return timer
        }
        replaced?.cancel()
    }

    private func receive(_ delivery: MessageDelivery) {
        switch delivery.message {
        case .pong(let pong):
            if session.withLock({ $0.receive(pong, from: delivery.sender) }) == .exitAcknowledged {
                exitAcknowledged.settle(.success(()))
            }
        case .statusChange(let request):
            if session.withLock({ $0.statusChangeRequested(request) }) { onCancel() }
        case .ping, .status:
            break
        }
    }

    private func runTimer() async {
        while !Task.isCancelled {
            let now = clock.now
            let (actions, next, closed) = session.withLock { session in
                (session.tick(at: now), session.nextTick, session.client.exitPhase == .closed)
            }
            if closed { return }
            for action in actions {
                switch action {
                case .sendPing(let ping, let executor):
                    let sent = transport.trySend(
                        .ping(ping), topic: MasterWorkerTopic.ping(master: master), from: self.executor, to: executor)
                    if !sent { reloadMasterInfo() }
                case .reloadMasterInfo:
                    reloadMasterInfo()
                case .suicide:
                    stop(with: .failure(.workerSuicide(master: master)))
                    return
                case .exitNotAcknowledged:
                    let timeout = session.withLock { $0.client.configuration.exitAcknowledgementTimeout }
                    exitAcknowledged.settle(.failure(.exitNotAcknowledged(master: master, after: timeout)))
                    return
                }
            }
            do {
                // At least a millisecond, so a tick that moved nothing cannot spin.
                try await clock.sleep(until: max(next, clock.now.advanced(by: .milliseconds(1))), tolerance: nil)
            } catch {
                return
            }
        }
    }

    /// Reads the master's current executor and epoch from the store, one read at a time.
    private func reloadMasterInfo() {
        guard
            reloading.withLock({ (busy: inout Bool) in
                defer { busy = true }
                return !busy
            })
        else { return }
        Task { [self] in
            defer { reloading.withLock { $0 = false } }
            guard let metadata = try? await store.loadMaster(master), let executor = metadata.executor else { return }
            session.withLock { $0.masterInfoLoaded(MasterInfo(executor: executor, epoch: metadata.epoch)) }
        }
    }

    // MARK: Status

    /// Sets the worker's status: persisted first if the state or error message changed, then sent
    /// to the master, retried every ``TimeoutConfiguration/statusRetryInterval`` (following the
    /// master if it moved) for up to ``TimeoutConfiguration/statusDeliveryTimeout``.
    ///
    /// Concurrent calls run one after another, in the order they were made, so a later status
    /// is never overwritten in the store or at the master by an earlier one. Once
    /// ``exit(_:error:extensionBytes:)`` has been called, or the worker has stopped, further
    /// updates are refused: the exit status is the last word.
    ///
    /// - Throws: ``MasterWorkerError/storage(_:)`` (nothing was sent),
    ///   ``MasterWorkerError/staleWorker(_:ownEpoch:stored:)`` when a later run of the worker has
    ///   persisted its status (nothing was sent, and the worker stops),
    ///   ``MasterWorkerError/statusNotDelivered(master:after:)``,
    ///   ``MasterWorkerError/invalidWorkerState(_:_:)`` after an exit or a stop.
    public func updateStatus(_ state: WorkerState, errorMessage: String = "", extensionBytes: [UInt8] = [])
        async throws(MasterWorkerError)
    {
        try await updateStatus(state, errorMessage: errorMessage, extensionBytes: extensionBytes, isExit: false)
    }

    private func updateStatus(_ state: WorkerState, errorMessage: String, extensionBytes: [UInt8], isExit: Bool)
        async throws(MasterWorkerError)
    {
        try await statusOrder.run { () throws(MasterWorkerError) in
            guard isExit || !leaving.load(ordering: .relaxed), stopped.value == nil else {
                throw .invalidWorkerState(worker, "the worker is leaving or has stopped: its exit status is final")
            }
            try await report(state, errorMessage: errorMessage, extensionBytes: extensionBytes)
        }
    }

    private func report(_ state: WorkerState, errorMessage: String, extensionBytes: [UInt8])
        async throws(MasterWorkerError)
    {
        let update = session.withLock {
            $0.prepareStatus(state: state, errorMessage: errorMessage, extensionBytes: extensionBytes)
        }
        if update.mustPersist {
            do {
                try await store.saveWorkerStatus(update.status, worker: worker, master: master)
            } catch {
                // A later run of this worker has written its status: this run was replaced.
                if case .staleWorker = error { stop(with: .failure(error)) }
                throw error
            }
            session.withLock { $0.statusPersisted(update.status) }
        }
        let configuration = session.withLock { $0.client.configuration }
        let deadline = clock.now.advanced(by: configuration.statusDeliveryTimeout)
        while true {
            let (message, executor) = session.withLock { $0.statusMessage(for: update.status) }
            let topic = MasterWorkerTopic.status(master: master)
            if transport.trySend(.status(message), topic: topic, from: self.executor, to: executor) { return }
            // A worker that stopped meanwhile (it gave up on its master, or was replaced) has no
            // status left to deliver.
            if clock.now >= deadline || stopped.value != nil { break }
            if let metadata = try? await store.loadMaster(master), let executor = metadata.executor {
                session.withLock { $0.masterInfoLoaded(MasterInfo(executor: executor, epoch: metadata.epoch)) }
            }
            do {
                try await clock.sleep(for: configuration.statusRetryInterval)
            } catch {
                break
            }
        }
        // Stopped meanwhile: why it stopped, not a timeout that did not pass.
        switch stopped.value {
        case .failure(let reason)?: throw reason
        case .success?: throw .invalidWorkerState(worker, "the worker stopped before its status was delivered")
        case nil: throw .statusNotDelivered(master: master, after: configuration.statusDeliveryTimeout)
        }
    }

    // MARK: Leaving

    /// Leaves gracefully: persists and reports the exit status (finished, stopped or error), then
    /// pings with the finished flag until the master acknowledges, at most
    /// ``TimeoutConfiguration/exitAcknowledgementTimeout``. The worker is stopped afterwards
    /// either way.
    ///
    /// - Throws: ``MasterWorkerError/exitNotAcknowledged(master:after:)`` if the master stayed
    ///   silent, or what ``updateStatus(_:errorMessage:extensionBytes:)`` throws.
    public func exit(_ reason: ExitReason, error: String? = nil, extensionBytes: [UInt8] = [])
        async throws(MasterWorkerError)
    {
        guard !leaving.exchange(true, ordering: .relaxed) else {
            throw .invalidWorkerState(worker, "the worker is already leaving")
        }
        defer { stop(with: .success(())) }
        let status = WorkerSession.exitStatus(
            reason, error: error, extensionBytes: extensionBytes, epoch: session.withLock { $0.client.workerEpoch })
        try await updateStatus(
            status.state, errorMessage: status.errorMessage, extensionBytes: status.extensionBytes, isExit: true)
        session.withLock { $0.beginExit(at: clock.now) }
        restartTimer()
        try await exitAcknowledged.wait().get()
    }

    /// Stops at once, without telling the master (it declares the worker offline after its
    /// timeout).
    public func stop() {
        stop(with: .success(()))
    }

    /// Waits until the worker stops; throws ``MasterWorkerError/workerSuicide(master:)`` if it
    /// stopped because its master went silent, ``MasterWorkerError/staleWorker(_:ownEpoch:stored:)``
    /// if a later run of it had persisted its status.
    public func waitUntilStopped() async throws(MasterWorkerError) {
        try await stopped.wait().get()
    }

    /// Runs until the worker stops (``exit(_:error:extensionBytes:)``, ``stop()``, or its master
    /// going silent), or until the task is cancelled, which stops it as ``stop()`` does: the
    /// `LongRunningService` shape, so a `ServiceGroup` runs a started worker. Throws what
    /// ``waitUntilStopped()`` throws.
    public func run() async throws(MasterWorkerError) {
        try await stopped.wait(onCancel: { stop() }).get()
    }

    private func stop(with outcome: Result<Void, MasterWorkerError>) {
        guard stopped.settle(outcome) else { return }
        exitAcknowledged.settle(.failure(outcome.failure ?? .workerCanceled))
        receiver.withLock { $0 }?.cancel()
        timer.withLock { $0 }?.cancel()
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
