package import BeaconCore

/// The dispatcher on a manual clock, with the in-memory store committing at once: what the tests
/// and `beacon simulate dispatcher --virtual-time` drive. ``advance(to:)`` does, in order, what
/// ``Dispatcher``'s threads do in real time: sweep the heartbeat wheel, fire orphan timers, flush
/// queued writes (resuming registrations), and send due assignment batches. Calls the core
/// defers are made as each step returns, as ``Dispatcher`` makes them once it releases its lock.
///
/// It is the single-threaded, package-only twin of `Dispatcher(clock: ManualClock(), …)`: the
/// core's own tests, the fuzzer and `beacon simulate` step it without any thread; a user drives
/// the public ``Dispatcher`` on a `ManualClock` instead.
package final class VirtualDispatcher {
    package let clock: ManualClock
    package let store: InMemoryDispatcherStore
    package let core: DispatcherCore<ManualClock>
    private var watch: StoreWatch?

    package init(
        configuration: DispatcherConfiguration = .init(), store: InMemoryDispatcherStore = .init(),
        managers: [WeightedManager] = [], start: BeaconInstant = BeaconInstant(nanoseconds: 1_000_000_000)
    ) throws(DispatcherError) {
        clock = ManualClock(start: start)
        self.store = store
        let wheel: HeartbeatWheel<ManualClock>
        do {
            wheel = try HeartbeatWheel(configuration: configuration.wheelConfiguration(stallGuard: false), clock: clock)
        } catch {
            throw .invalidConfiguration("heartbeat wheel: \(error)")
        }
        core = try DispatcherCore(configuration: configuration, wheel: wheel, store: store, managers: managers)
    }

    package var now: BeaconInstant { clock.now }

    /// Starts a term (see ``DispatcherCore/start(at:)``) and watches the store.
    package func start() throws(DispatcherError) {
        try core.start(at: now)
        let clock = clock
        // The virtual dispatcher runs on one thread, and the in-memory store delivers events on
        // the committing thread: this one.
        nonisolated(unsafe) let unsafeCore = core
        watch = store.watch { event in unsafeCore.handle(event, at: clock.now) }
    }

    /// Changes the shard (see ``DispatcherCore/updateShard(_:at:)``) at the clock's time.
    @discardableResult
    package func updateShard(_ shard: DispatcherShard) -> DispatcherCore<ManualClock>.ShardChange {
        let change = core.updateShard(shard, at: now)
        core.takeDeferredCalls().perform()
        return change
    }

    /// Ends like a killed process: the store watch is dropped, and nothing queued is written.
    package func abandon() {
        watch = nil
    }

    /// Ends the term and commits what was queued.
    package func stop() {
        watch = nil
        let batch = core.stop()
        core.takeDeferredCalls().perform()
        if let batch { store.apply(batch.writes) }
    }

    /// Registers (or resumes); `completion` runs during the ``advance(to:)`` whose flush commits
    /// the node's READY write.
    package func register(
        _ node: NodeID, description: NodeDescription? = nil, address: String = "", resume: SessionID? = nil,
        completion: @escaping (Result<SessionMessage, DispatcherError>) -> Void
    ) throws(DispatcherError) {
        var pending: DispatcherCore<ManualClock>.PendingRegistration?
        pending = try core.beginRegistration(
            node: node, description: description, address: address, resume: resume, at: now
        ) { [unowned self] error in
            completion(
                Result { () throws(DispatcherError) in
                    try self.core.completeRegistration(pending!, commitError: error, at: self.now)
                })
        }
    }

    /// Registers and advances the clock by one flush interval, returning the first session message.
    package func registerNow(_ node: NodeID, description: NodeDescription? = nil, resume: SessionID? = nil)
        throws(DispatcherError) -> SessionMessage
    {
        var result: Result<SessionMessage, DispatcherError>?
        try register(node, description: description, resume: resume) { result = $0 }
        advance(by: core.configuration.statusBatchInterval)
        guard let result else { throw .stopped }
        return try result.get()
    }

    /// ``DispatcherCore/heartbeat(node:session:)`` on this concrete clock, so callers in other
    /// modules run the specialised hot path rather than the generic one.
    package func heartbeat(node: NodeID, session: SessionID) throws(DispatcherError) -> Duration {
        try core.heartbeat(node: node, session: session)
    }

    package func advance(by duration: Duration) {
        advance(to: now.advanced(by: duration))
    }

    package func advance(to instant: BeaconInstant) {
        try? clock.advance(to: instant)
        let now = clock.now
        let core = core
        _ = try? core.path.wheel.advance(to: now) { expiry in core.expire(expiry, at: now) }
        core.fireTimers(at: now)
        core.takeDeferredCalls().perform()
        while core.isFlushDue(at: now), let batch = core.takeWrites(at: now) { commit(batch) }
        core.flushAssignments(at: now)
    }

    /// Commits a batch taken from the core (unless `error` says the commit failed) and reports
    /// it, resuming the registrations that waited for it.
    package func commit(_ batch: DispatcherCore<ManualClock>.WriteBatch, error: DispatcherError? = nil) {
        if error == nil { store.apply(batch.writes) }
        core.writesCommitted(batch, error: error)
        core.takeDeferredCalls().perform()
    }
}
