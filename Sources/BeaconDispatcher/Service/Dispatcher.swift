public import BeaconCore
import BeaconPrimitives
public import Logging
import Synchronization

/// SwarmKit's dispatcher on Beacon's core: nodes register and keep a session, heartbeat on the
/// period they are given, receive their assignments as a COMPLETE set and then compact
/// INCREMENTAL diffs, and report task status.
///
/// ```swift
/// let store = InMemoryDispatcherStore()
/// let node = try NodeID("node-1")
/// store.createNode(node)
/// let dispatcher = try Dispatcher(store: store)
/// let running = Task { try await dispatcher.run() }
/// let session = try await dispatcher.session(nodeID: node, description: NodeDescription(hostname: "worker-1"))
/// let period = try dispatcher.heartbeat(nodeID: node, session: session.id)   // beat again within `period`
/// dispatcher.stop()
/// try await running.value
/// ```
///
/// ## Virtual time
///
/// Every timing of the dispatcher (heartbeat deadlines, the status batch interval, assignment
/// debounce, UNKNOWN and orphan timers, the metrics interval) runs on the clock it is given, so a
/// test drives it on a `ManualClock` without waiting in real time:
///
/// ```swift
/// let clock = ManualClock()
/// let dispatcher = try Dispatcher(clock: clock, store: InMemoryDispatcherStore())
/// let running = Task { try await dispatcher.run() }
/// await dispatcher.waitUntilIdle()       // leading, and parked
/// try clock.advance(by: .seconds(16))    // past every deadline
/// await dispatcher.waitUntilIdle()       // expiries handled
/// ```
///
/// Writes reach the store in batches (every `statusBatchInterval`, or at once when
/// `statusBatchLimit` are queued), so a registration returns once the clock has moved far enough
/// for its batch to flush; ``state(of:)`` shows a node's liveness before the store does.
///
/// Heartbeats take no lock: they check the session in a lock-free table and push the node's
/// deadline in a `HeartbeatWheel`, whose own thread reports expiries. Everything else goes
/// through the `DispatcherCore` state machine behind one lock, and a loop in ``run()`` flushes
/// status writes (every `statusBatchInterval`, or at once when `statusBatchLimit` are queued),
/// fires orphan timers and sends assignment batches.
public final class Dispatcher<Clock: BeaconClock>: LongRunningService {
    private let core: LockedCore<Clock>
    /// The lock-free heartbeat path (``HeartbeatDatagramResponder`` answers beats on it).
    let path: HeartbeatPath<Clock>
    private let timer: HeartbeatTimer<Clock>
    private let store: any DispatcherStore
    private let logger: Logger
    private let metrics: DispatcherMetrics
    /// The configuration the dispatcher was made with.
    public let configuration: DispatcherConfiguration
    /// The clock every deadline and interval of the dispatcher runs on.
    public let clock: Clock

    private struct Lifecycle {
        var running = false
        /// Writes `stop()` took from the core, for the loop to commit before it returns.
        var finalBatch: DispatcherCore<Clock>.WriteBatch?
    }
    private let lifecycle = PosixMutex(Lifecycle())
    private let stopRequested = Atomic<Bool>(false)
    private let wakeup = Wakeup()
    /// Passes of the loop since the dispatcher was made (a test checks that an idle one sleeps).
    private let passes = Atomic<Int>(0)
    package var loopPasses: Int { passes.load(ordering: .relaxed) }
    /// Assignment streams ended because their reader fell behind (``DispatcherError/assignmentsBehind(limit:)``).
    private let streamsBehind = Atomic<Int>(0)
    package var assignmentStreamsEndedBehind: Int { streamsBehind.load(ordering: .relaxed) }
    /// Writes left out of nodes' assignment streams as too large for one message
    /// (`beacon_dispatcher_oversized_assignments_total`).
    package var oversizedAssignments: Int { core.withLock { $0.counters.oversizedAssignments } }

    /// A stopped dispatcher over `store` on `clock`; ``run()`` starts it. `managers` is the first
    /// manager list sessions carry (see ``updateManagers(_:)``).
    ///
    /// The heartbeat wheel's thread can block on `MonotonicClock` and `ManualClock` only;
    /// another clock throws ``DispatcherError/invalidConfiguration(_:)``. On a manual clock the
    /// wheel's stall guard is off: virtual time jumps on purpose, and a jump past a deadline must
    /// expire the node rather than count as a pause of the process.
    public init(
        configuration: DispatcherConfiguration = .init(), clock: Clock, store: any DispatcherStore,
        managers: [WeightedManager] = [], logger: Logger = Logger(label: "beacon.dispatcher")
    ) throws(DispatcherError) {
        do {
            timer = try HeartbeatTimer(
                configuration: configuration.wheelConfiguration(stallGuard: !(clock is ManualClock)), clock: clock)
        } catch let error as DispatcherError {
            throw error
        } catch {
            throw .invalidConfiguration("heartbeat wheel: \(error)")
        }
        let core = try DispatcherCore(
            configuration: configuration, wheel: timer.wheel, store: store, managers: managers)
        path = core.path
        self.core = LockedCore(core)
        self.store = store
        self.logger = logger
        self.configuration = configuration
        self.clock = clock
        metrics = DispatcherMetrics()
    }

    // MARK: Running

    /// Leads until ``stop()`` or cancellation (under swift-service-lifecycle, run it through
    /// `LifecycleService` from `BeaconLifecycle`, which cancels it on graceful shutdown): marks
    /// the store's nodes UNKNOWN, then flushes writes and sends assignments until stopped; on the
    /// way out, stopped or cancelled, commits the writes still queued before it returns. Throws
    /// ``DispatcherError/alreadyRunning`` if it is running.
    public func run() async throws(DispatcherError) {
        let now = clock.now
        // Starting the core and clearing the stop flag under the lifecycle lock, which `stop()`
        // also takes, means a stop either comes before the start (and is a no-op, as documented)
        // or sees a started core: it is never lost in between.
        let watch = try lifecycle.withLock { lifecycle throws(DispatcherError) in
            guard !lifecycle.running else { throw .alreadyRunning }
            // The watch goes in before the core reads the store, so that no change falls between
            // the read and the first event: a change that lands before `start` is in what it
            // reads (the store updates itself before telling its watchers), and its event finds
            // the core not yet running and is dropped. A failed start drops the watch with it.
            let watch = store.watch { [core, clock, wakeup] event in
                core.withLock { $0.handle(event, at: clock.now) }
                wakeup.signal()
            }
            try core.withLock { core throws(DispatcherError) in try core.start(at: now) }
            lifecycle.running = true
            lifecycle.finalBatch = nil
            stopRequested.store(false, ordering: .relaxed)
            return watch
        }
        defer { lifecycle.withLock { $0.running = false } }
        defer { watch.cancel() }
        let adopted = core.withLock { $0.nodeCount }
        logger.info("dispatcher leading", metadata: ["nodes": "\(adopted)"])
        warnIfOverCapacity(adopted)
        do {
            try timer.start { [core, clock, logger, metrics, wakeup] expiry in
                let downs = core.withLock { core in
                    let before = core.counters.expiries
                    core.expire(expiry, at: clock.now)
                    return core.counters.expiries - before
                }
                wakeup.signal()
                if downs > 0 {
                    metrics.expiries.increment(by: downs)
                    logger.info("heartbeat deadline passed", metadata: ["nodes": "\(downs)"])
                }
            }
        } catch {
            _ = core.withLock { $0.stop() }
            throw .invalidConfiguration("heartbeat timer: \(error)")
        }
        defer { timer.stop() }
        await loop()
        stop()
        if let batch = lifecycle.withLock({ $0.finalBatch }) {
            do {
                try await commitUncancelled(batch.writes)
            } catch {
                logger.error(
                    "last writes were not committed",
                    metadata: ["error": "\(error)", "writes": "\(batch.writes.count)"])
            }
        }
        logger.info("dispatcher stopped")
    }

    /// Stops leading: every session gets a last message with `disconnect` set, every stream ends,
    /// waiting registrations and later calls fail with ``DispatcherError/stopped``. ``run()``
    /// commits the queued writes and returns. A no-op when not running.
    public func stop() {
        lifecycle.withLock { lifecycle in
            if let batch = core.withLock({ $0.stop() }) { lifecycle.finalBatch = batch }
            stopRequested.store(true, ordering: .releasing)
        }
        wakeup.signal()
    }

    /// Commits `writes` in a task of its own, which the run's cancellation does not reach. A
    /// batch taken from the core exists nowhere else, and a store may refuse or abandon a commit
    /// made from a cancelled task (an HTTP client does): committed from the run's task, the
    /// writes in flight and the last ones queued would be lost exactly when a graceful shutdown
    /// cancels the run. The run still waits for the commit.
    private func commitUncancelled(_ writes: [DispatcherWrite]) async throws(DispatcherError) {
        // Real time even on a manual clock: what a commit costs is the store's, not the model's.
        let started = ContinuousClock.now
        let commit = Task { [store] () async -> Result<Void, DispatcherError> in
            do throws(DispatcherError) {
                try await store.commit(writes)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        let result = await commit.value
        metrics.recordCommit(
            of: writes.count, taking: ContinuousClock.now - started, failed: (try? result.get()) == nil)
        try result.get()
    }

    /// Flushes writes, fires timers and sends assignment batches when they are due, sleeping in
    /// between until the next deadline or until new work signals ``wakeup``.
    private func loop() async {
        var lastMetrics = clock.now
        var reported = (beats: 0, registrations: 0, bytes: 0, oversized: 0, behind: 0)
        while !stopRequested.load(ordering: .acquiring), !Task.isCancelled {
            passes.add(1, ordering: .relaxed)
            let now = clock.now
            let (batch, next) = core.withLock { core -> (DispatcherCore<Clock>.WriteBatch?, BeaconInstant?) in
                core.fireTimers(at: now)
                core.flushAssignments(at: now)
                let batch = core.isFlushDue(at: now) ? core.takeWrites(at: now) : nil
                return (batch, core.nextWakeup(after: now))
            }
            if let batch {
                var failure: DispatcherError?
                do {
                    try await commitUncancelled(batch.writes)
                } catch {
                    failure = error
                    logger.error(
                        "status writes were not committed",
                        metadata: ["error": "\(error)", "writes": "\(batch.writes.count)"])
                }
                core.withLock { $0.writesCommitted(batch, error: failure) }
                continue
            }
            if now.duration(since: lastMetrics) >= configuration.metricsInterval {
                lastMetrics = now
                let snapshot = core.withLock { ($0.nodeCount, $0.unknownCount, $0.downCount, $0.counters) }
                metrics.ready.record(snapshot.0 - snapshot.1)
                metrics.unknown.record(snapshot.1)
                metrics.down.record(snapshot.2)
                let beats = path.beats.total
                metrics.heartbeats.increment(by: beats - reported.beats)
                metrics.registrations.increment(by: snapshot.3.registrations - reported.registrations)
                metrics.assignmentBytes.increment(by: snapshot.3.assignmentBytes - reported.bytes)
                let oversized = snapshot.3.oversizedAssignments - reported.oversized
                if oversized > 0 {
                    metrics.oversizedAssignments.increment(by: oversized)
                    logger.warning(
                        "assignments left out of nodes' streams: larger than one message can carry",
                        metadata: [
                            "objects": "\(oversized)",
                            "budget": "\(configuration.assignmentBatching.byteBudget), or a node's own when smaller",
                        ])
                }
                let streamsBehind = assignmentStreamsEndedBehind
                if streamsBehind > reported.behind {
                    metrics.assignmentStreamsBehind.increment(by: streamsBehind - reported.behind)
                    logger.warning(
                        "assignment streams ended: their nodes read too slowly",
                        metadata: [
                            "streams": "\(streamsBehind - reported.behind)",
                            "limit": "\(configuration.assignmentBacklogLimit)",
                        ])
                }
                reported = (
                    beats, snapshot.3.registrations, snapshot.3.assignmentBytes, snapshot.3.oversizedAssignments,
                    streamsBehind
                )
            }
            let wakeAt = min(next ?? .init(nanoseconds: .max), lastMetrics.advanced(by: configuration.metricsInterval))
            await wakeup.wait(until: wakeAt, on: clock)
        }
    }

    // MARK: The node-facing calls

    /// Registers the node (or resumes `resume` if it is still the node's valid session, which
    /// skips the rate limit) and returns its session once the node's READY write has committed.
    ///
    /// Throws ``DispatcherError/stopped``, ``DispatcherError/rateLimited(node:attempts:window:)``,
    /// ``DispatcherError/nodeNotFound(_:)``, ``DispatcherError/capacityExhausted(_:)``, or the
    /// store's failure.
    public func session(
        nodeID: NodeID, description: NodeDescription?, address: String = "", resume: SessionID? = nil
    ) async throws(DispatcherError) -> NodeSession {
        let (messages, sink) = DispatcherStream<SessionMessage>.make(keepingNewest: 2)
        let first = try await register(
            nodeID: nodeID, description: description, address: address, resume: resume, sink: { _ = sink($0) })
        return NodeSession(id: first.sessionID, messages: messages)
    }

    /// Registers (or resumes) like ``session(nodeID:description:address:resume:)`` and returns only
    /// the first session message, for a node that heartbeats and receives assignments but does
    /// not follow session messages (a simulation, a benchmark, a proxy that polls).
    public func register(
        nodeID: NodeID, description: NodeDescription?, address: String = "", resume: SessionID? = nil
    ) async throws(DispatcherError) -> SessionMessage {
        try await register(nodeID: nodeID, description: description, address: address, resume: resume, sink: nil)
    }

    private func register(
        nodeID: NodeID, description: NodeDescription?, address: String, resume: SessionID?,
        sink: DispatcherCore<Clock>.SessionSink?
    ) async throws(DispatcherError) -> SessionMessage {
        let waiter = Latch<DispatcherError?>()
        let now = clock.now
        let pending = try core.withLock { core throws(DispatcherError) in
            try core.beginRegistration(
                node: nodeID, description: description, address: address, resume: resume, at: now,
                onCommitted: { waiter.settle($0) })
        }
        wakeup.signal()
        let commitError = await waiter.wait()
        // Ending it can queue a write (a READY another manager's status buried): the loop may be
        // asleep until a later deadline.
        defer { if core.withLock({ $0.pendingWriteCount > 0 }) { wakeup.signal() } }
        let first = try core.withLock { core throws(DispatcherError) -> SessionMessage in
            let message = try core.completeRegistration(pending, commitError: commitError, at: clock.now)
            if let sink {
                // Under the same lock as the registration, so no message is missed in between.
                sink(.message(message))
                try core.attachSessionSink(node: nodeID, session: message.sessionID, sink)
            }
            return message
        }
        logger.debug("node registered", metadata: ["node": "\(nodeID)", "session": "\(first.sessionID)"])
        return first
    }

    /// Records a heartbeat and returns when the node should beat next. Lock-free and
    /// allocation-free when the session is valid.
    ///
    /// Throws ``DispatcherError/sessionInvalid`` (reconnect with a new session),
    /// ``DispatcherError/nodeNotRegistered`` (the node expired: register again) or
    /// ``DispatcherError/stopped``.
    public func heartbeat(nodeID: NodeID, session: SessionID) throws(DispatcherError) -> Duration {
        try beat(nodeID: nodeID, session: session)
    }

    @inline(__always)
    private func beat(nodeID: NodeID, session: SessionID) throws(DispatcherError) -> Duration {
        if let period = path.beat(node: nodeID, session: session) { return period }
        throw core.withLock { $0.failure(node: nodeID) }
    }

    /// Records every heartbeat of `batch`, as `heartbeat(nodeID:session:)` records each, for a
    /// relay or proxy that forwards many nodes' heartbeats in one message. At a million nodes a
    /// batch costs a fraction of the same single calls: it fetches each beat's session slot and
    /// wheel record into cache 16 beats ahead. Lock-free and allocation-free for valid sessions;
    /// a refused heartbeat does not stop the others.
    ///
    /// - Parameters:
    ///   - batch: the heartbeats; they need not be sorted, and a node may appear more than once.
    ///   - answer: called once per heartbeat, in order, with its position in `batch` and the
    ///     period the node should beat again after, or the error `heartbeat(nodeID:session:)`
    ///     would have thrown.
    /// - Returns: how many heartbeats were refused.
    @discardableResult
    public func heartbeat(
        batch: [NodeHeartbeat], answer: (_ position: Int, _ result: Result<Duration, DispatcherError>) -> Void
    ) -> Int {
        beat(batch: batch, answer: answer)
    }

    @inline(__always)
    private func beat(
        batch: [NodeHeartbeat], answer: (_ position: Int, _ result: Result<Duration, DispatcherError>) -> Void
    ) -> Int {
        var refused = 0
        batch.withUnsafeBufferPointer { heartbeats in
            path.beat(batch: heartbeats) { position, period in
                if let period {
                    answer(position, .success(period))
                } else {
                    refused += 1
                    answer(position, .failure(core.withLock { $0.failure(node: heartbeats[position].nodeID) }))
                }
            }
        }
        return refused
    }

    /// The node's assignments: a COMPLETE set first, then INCREMENTAL batches. Opening it again
    /// replaces the previous stream and starts with a new COMPLETE set, which is how a node that
    /// saw a gap recovers, and how one recovers whose stream ended with
    /// ``DispatcherError/assignmentsBehind(limit:)`` because it read too slowly.
    ///
    /// - Parameters:
    ///   - nodeID: the node whose assignments to send.
    ///   - session: the node's current session.
    ///   - byteBudget: the largest diff the node reads, when it is below the configured
    ///     `assignmentBatching.byteBudget`: its messages are cut to it, and a task, secret or
    ///     config too large for it is left out of this node's stream (counted as oversized) rather
    ///     than sent in a message the node would refuse. Nil, or a larger budget, takes the
    ///     configured one. Below `AssignmentEncoder.minimumByteBudget` it is refused with
    ///     ``DispatcherError/invalidArgument(_:)``.
    public func assignments(nodeID: NodeID, session: SessionID, byteBudget: Int? = nil) throws(DispatcherError)
        -> DispatcherStream<AssignmentMessage>
    {
        let backlog = AssignmentBacklog(limit: configuration.assignmentBacklogLimit) { [weak self] in
            self?.streamsBehind.add(1, ordering: .relaxed)
        }
        let (messages, sink) = DispatcherStream<AssignmentMessage>.make(keepingNewest: nil, backlog: backlog)
        let now = clock.now
        try core.withLock { core throws(DispatcherError) in
            try core.openAssignments(node: nodeID, session: session, byteBudget: byteBudget, at: now, sink)
        }
        // Said once per stream: what this node's agent cannot read is left out of its stream alone,
        // and the oversized counter does not say which node that is.
        if let byteBudget, byteBudget < configuration.assignmentBatching.byteBudget {
            logger.info(
                "node reads assignment messages smaller than the budget",
                metadata: [
                    "node": "\(nodeID)", "nodeBudget": "\(byteBudget)",
                    "budget": "\(configuration.assignmentBatching.byteBudget)",
                ])
        }
        return messages
    }

    /// Queues task status reports; returns before they are committed, as SwarmKit does (a node
    /// resends its statuses on every new session, so a leader change loses nothing it reported).
    /// Throws ``DispatcherError/permissionDenied(_:)`` and queues nothing if any update is for a
    /// task of another node.
    public func updateTaskStatus(nodeID: NodeID, session: SessionID, updates: [TaskStatusUpdate])
        throws(DispatcherError)
    {
        try core.withLock { core throws(DispatcherError) in
            try core.updateTaskStatus(node: nodeID, session: session, updates)
        }
        wakeup.signal()
    }

    /// Replaces the manager list every session carries, and sends it to every session.
    public func updateManagers(_ managers: [WeightedManager]) {
        core.withLock { $0.updateManagers(managers) }
    }

    /// Makes `shard` this dispatcher's part of a sharded deployment, before or while it runs.
    ///
    /// From then on the dispatcher holds sessions, heartbeats and assignment streams only for the
    /// nodes the shard gives it, and refuses the others with
    /// ``DispatcherError/wrongManager(node:owner:)``. On a change while running, nodes that moved
    /// away get a last session message (with `disconnect` set and their new owner first) and
    /// their streams end; nodes that moved here become UNKNOWN with the longer grace until they
    /// register, as after a leader change; DOWN is written only for nodes this dispatcher holds.
    /// Without a shard, a dispatcher holds every node of its store.
    public func updateShard(_ shard: DispatcherShard) {
        let now = clock.now
        let (change, nodes) = core.withLock { ($0.updateShard(shard, at: now), $0.nodeCount) }
        wakeup.signal()
        if change.adopted > 0 { warnIfOverCapacity(nodes) }
        logger.info(
            "shard changed",
            metadata: [
                "manager": "\(shard.manager)", "managers": "\(shard.table.managers.count)",
                "sessions-ended": "\(change.sessionsEnded)", "adopted": "\(change.adopted)",
            ])
    }

    /// A term or a shard change took over more live nodes than `maximumNodes`: the first to
    /// register get sessions and the rest are refused, which an operator should hear of.
    private func warnIfOverCapacity(_ nodes: Int) {
        guard nodes > configuration.maximumNodes else { return }
        logger.warning(
            "more live nodes than maximumNodes: the first to register get sessions, the rest are refused until nodes that do not come back are DOWN",
            metadata: ["nodes": "\(nodes)", "maximumNodes": "\(configuration.maximumNodes)"])
    }

    /// Calls `observer` on the wheel's thread for every node whose deadline passes.
    package func observeExpiries(_ observer: @escaping @Sendable (NodeID, BeaconInstant) -> Void) {
        core.withLock { $0.expiryObserver = observer }
    }

    /// Nodes registered or awaiting re-registration (UNKNOWN).
    public var nodeCount: Int { core.withLock { $0.nodeCount } }

    /// The node's liveness as this dispatcher sees it now, ahead of the store, whose writes wait
    /// for the next flush: ``NodeState/ready`` while the node holds a session,
    /// ``NodeState/unknown`` while a node carried over from the previous leader has not
    /// registered, ``NodeState/down`` from a missed deadline until the node registers again or
    /// its orphan timer fires; nil when this term holds no record of the node (never seen,
    /// registering without a live session until that registration commits, or DOWN past its
    /// orphan timer). What a health endpoint or a test reads without waiting for a flush.
    public func state(of node: NodeID) -> NodeState? {
        core.withLock { $0.liveness(of: node) }
    }

    /// Bytes of the heartbeat arenas touched so far (see ``HeartbeatPath/touchedArenaBytes``).
    package var touchedArenaBytes: Int { path.touchedArenaBytes }

    /// Heartbeats accepted since the dispatcher was made.
    public var heartbeatCount: Int { path.beats.total }
}

extension Dispatcher where Clock == MonotonicClock {
    /// A stopped dispatcher over `store` on the system's monotonic clock; ``run()`` starts it.
    /// `managers` is the first manager list sessions carry (see ``updateManagers(_:)``).
    public convenience init(
        configuration: DispatcherConfiguration = .init(), store: any DispatcherStore, managers: [WeightedManager] = [],
        logger: Logger = Logger(label: "beacon.dispatcher")
    ) throws(DispatcherError) {
        try self.init(
            configuration: configuration, clock: MonotonicClock(), store: store, managers: managers, logger: logger)
    }

    /// ``heartbeat(nodeID:session:)`` compiled for the system clock. Callers of a production
    /// dispatcher pick this overload, so the hot path runs specialised: the generic method,
    /// called from another module, would run unspecialised through the clock's witness table.
    public func heartbeat(nodeID: NodeID, session: SessionID) throws(DispatcherError) -> Duration {
        try beat(nodeID: nodeID, session: session)
    }

    /// `heartbeat(batch:answer:)` compiled for the system clock, as the single heartbeat is.
    @discardableResult
    public func heartbeat(
        batch: [NodeHeartbeat], answer: (_ position: Int, _ result: Result<Duration, DispatcherError>) -> Void
    ) -> Int {
        beat(batch: batch, answer: answer)
    }
}

extension Dispatcher where Clock == ManualClock {
    /// Returns once the running dispatcher sleeps on its clock again: its loop and its heartbeat
    /// wheel's thread are both parked. After ``run()`` starts, that means it leads; after an
    /// advance, the wheel has reported every deadline the clock passed (``state(of:)`` shows the
    /// DOWN nodes; the store receives them with the next flush). Returns early if the task is
    /// cancelled.
    ///
    /// It counts the sleepers on the clock, so it cannot tell the dispatcher's from another
    /// shell's: on a clock shared with shells that park as well (an `InMemoryCoordinationStore`'s
    /// lease sweeper, a scheduler's lease refresher), pass how many of those sleep when all is
    /// quiet, or it returns before the dispatcher has parked.
    ///
    /// - Parameter otherSleepers: the sleepers on the clock that are not the dispatcher's; a
    ///   negative count is taken as none, and one too large to add to the dispatcher's waits
    ///   until the task is cancelled.
    public func waitUntilIdle(besides otherSleepers: Int = 0) async {
        let (total, overflowed) = Self.sleepersWhenIdle.addingReportingOverflow(max(0, otherSleepers))
        await clock.waitForSleepers(overflowed ? .max : total)
    }

    /// The loop's wake-up timer and the wheel's thread.
    private static var sleepersWhenIdle: Int { 2 }
}
