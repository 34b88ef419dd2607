package import BeaconCore

/// What a session or assignment stream's consumer receives.
package enum StreamEvent<Message: Sendable>: Sendable {
    case message(Message)
    /// The stream ends: normally (nil) or with the reason.
    case finished(DispatcherError?)
}

/// The dispatcher's logic as a state machine: every input carries the time, every output is a
/// value or a call to a sink the caller supplied, and nothing here sleeps, spawns or locks.
///
/// Calls to code outside the dispatcher (registrations waiting for their commit, the expiry
/// observer) are not made here: they queue until the shell takes them with
/// ``takeDeferredCalls()`` and makes them after releasing its lock, so a waiter that registers
/// again or an observer that reads the dispatcher never runs under the lock. Stream sinks are
/// the exception: they only buffer (an `AsyncStream` yield never runs the reader), and calling
/// them under the lock is what keeps each stream's messages in order when several threads feed
/// it (the loop's assignment batches, store events, expiries).
///
/// ``Dispatcher`` runs it on the system clock behind a lock; tests and `beacon simulate
/// --virtual-time` drive it through ``VirtualDispatcher`` on a manual clock. Heartbeats bypass it:
/// ``HeartbeatPath`` checks sessions and beats the wheel without the lock, and the core only
/// writes the session table the path reads.
package final class DispatcherCore<Clock: BeaconClock> {
    package typealias SessionSink = (StreamEvent<SessionMessage>) -> Void
    package typealias AssignmentSink = (StreamEvent<AssignmentMessage>) -> Void

    static var expiryMessage: String { "heartbeat failure" }
    static var unknownExpiryMessage: String { "heartbeat failure for node in \"unknown\" state" }

    /// One registered node, indexed by its wheel slot (48 bytes: this is most of a node's memory).
    private struct Registration {
        var node: NodeID
        var handle: HeartbeatHandle
        /// When the last counted registration happened.
        var registeredAt: BeaconInstant
        var limit: RateLimit
    }

    /// Registrations counted in the current rate-limit window.
    private struct RateLimit {
        var attempts: Int32 = 0
    }

    /// A node carried over from an earlier leader that has not registered again. It holds no
    /// wheel record: its deadline waits in `unknownQueue`, so when it registers it takes one
    /// record at the normal grace instead of leaving an UNKNOWN record behind until the old
    /// deadline passes.
    private struct UnknownNode {
        var deadline: BeaconInstant
        var limit = RateLimit()
        /// Set once it has registered in this window; nil before (SwarmKit's zero `Registered`).
        var registeredAt: BeaconInstant?
    }

    private struct PendingNodeWrite {
        var status: NodeStatus
        var description: NodeDescription?
    }

    private struct OrphanTimer {
        var deadline: BeaconInstant
        var node: NodeID
        var token: UInt64
    }

    /// Registrations of one node awaiting their commit, and whether a deadline of the node passed
    /// meanwhile.
    private struct RegistrationInFlight {
        var count = 0
        var deadlinePassed = false
    }

    private struct Waiter {
        var generation: UInt64
        var resume: (DispatcherError?) -> Void
    }

    /// The writes of one flush, to commit and then report with ``writesCommitted(_:error:)``.
    package struct WriteBatch: Sendable {
        package let writes: [DispatcherWrite]
        package let generation: UInt64
        let term: UInt64
    }

    /// A registration whose READY write is queued; complete it once that write committed.
    package struct PendingRegistration: Sendable {
        let node: NodeID
        let term: UInt64
        /// The session being resumed, if any.
        let resumed: SessionID?
    }

    package let configuration: DispatcherConfiguration
    package let path: HeartbeatPath<Clock>
    private let store: any DispatcherStore
    private var wheel: HeartbeatWheel<Clock> { path.wheel }

    package private(set) var isRunning = false
    private var term: UInt64 = 0
    private var index = NodeIndex()
    private var registrations = SlotArray<Registration>()
    private var unknownNodes: [NodeID: UnknownNode] = [:]
    /// UNKNOWN deadlines in order, read from `unknownQueueHead`.
    private var unknownQueue: [(deadline: BeaconInstant, node: NodeID)] = []
    private var unknownQueueHead = 0
    private var sessionSinks: [UInt32: SessionSink] = [:]
    private var assignmentFeeds: [UInt32: (assignments: NodeAssignments, sink: AssignmentSink)] = [:]
    private var dirtyFeeds: Set<UInt32> = []

    private var nodeWrites: [NodeID: PendingNodeWrite] = [:]
    private var taskWrites: [String: TaskStatus] = [:]
    private var orphanWrites: [NodeID] = []
    /// The generation the next flush commits; waiters for it resume when it commits.
    private var nextGeneration: UInt64 = 1
    private var waiters: [Waiter] = []
    private var lastFlush = BeaconInstant.zero

    /// Nodes with a registration between begin and complete, and whether a deadline of theirs
    /// passed meanwhile: such a node is not marked DOWN unless its registration fails.
    private var registering: [NodeID: RegistrationInFlight] = [:]

    private var downNodes: [NodeID: UInt64] = [:]
    private var orphanQueue: [OrphanTimer] = []
    private var orphanQueueHead = 0
    private var nextOrphanToken: UInt64 = 0

    private var managers: [WeightedManager]
    private var cluster = ClusterSettings()
    private var random = SystemRandomNumberGenerator()

    /// Counters for metrics and reports.
    package struct Counters: Sendable {
        package var registrations = 0
        package var expiries = 0
        package var flushes = 0
        package var writes = 0
        package var assignmentMessages = 0
        package var assignmentBytes = 0
        package var orphaned = 0
    }
    package private(set) var counters = Counters()
    private var deferredCalls: [() -> Void] = []
    /// Told of every node whose deadline passed, when the wheel reported it (simulations measure
    /// detection lateness with it).
    package var expiryObserver: ((NodeID, BeaconInstant) -> Void)?

    package init(
        configuration: DispatcherConfiguration, wheel: HeartbeatWheel<Clock>, store: any DispatcherStore,
        managers: [WeightedManager]
    ) throws(DispatcherError) {
        self.configuration = configuration
        path = try HeartbeatPath(wheel: wheel, configuration: configuration)
        self.store = store
        self.managers = managers
    }

    /// The calls owed since the last take, in the order they were owed; make them with
    /// ``DeferredCalls/perform()`` once the core's lock is released.
    package func takeDeferredCalls() -> DeferredCalls {
        guard !deferredCalls.isEmpty else { return DeferredCalls() }
        defer { deferredCalls = [] }
        return DeferredCalls(calls: deferredCalls)
    }

    /// The node's liveness as this term sees it now, ahead of the store (whose writes wait for
    /// the next flush): READY while it holds a session, UNKNOWN while a node carried over from
    /// the previous leader has not registered, DOWN from a missed deadline until it registers
    /// again or its orphan timer fires; nil otherwise.
    package func liveness(of node: NodeID) -> NodeState? {
        if slot(of: node) != nil { return .ready }
        if unknownNodes[node] != nil { return .unknown }
        if downNodes[node] != nil { return .down }
        return nil
    }

    /// Registered nodes and nodes awaiting re-registration (UNKNOWN).
    package var nodeCount: Int { registrations.count + unknownNodes.count }
    package var unknownCount: Int { unknownNodes.count }
    package var downCount: Int { downNodes.count }
    package var pendingWriteCount: Int { nodeWrites.count + taskWrites.count + orphanWrites.count }

    // MARK: Leadership

    /// Starts a term: every node the store holds that is not DOWN becomes UNKNOWN with the longer
    /// grace and no valid session; DOWN nodes restart their orphan timers. Nothing from a
    /// previous term survives (SwarmKit PR 2091).
    package func start(at now: BeaconInstant) throws(DispatcherError) {
        guard !isRunning else { throw .alreadyRunning }
        let nodes = store.allNodes()
        guard nodes.count(where: { $0.status.state != .down }) <= configuration.maximumNodes else {
            throw .capacityExhausted(configuration.maximumNodes)
        }
        isRunning = true
        term += 1
        lastFlush = now
        cluster = store.clusterSettings()
        for node in nodes {
            if node.status.state == .down {
                startOrphanTimer(node.id, at: now)
                continue
            }
            let draw = path.draw(random: random.next(), grace: path.settings.unknownGrace)
            let deadline = now.advanced(by: draw.ttl.duration)
            unknownNodes[node.id] = UnknownNode(deadline: deadline)
            unknownQueue.append((deadline, node.id))
            nodeWrites[node.id] = PendingNodeWrite(
                status: NodeStatus(state: .unknown, message: "Node moved to \"unknown\" state due to leadership change in cluster"),
                description: nil)
        }
        unknownQueue.sort { $0.deadline < $1.deadline }
    }

    /// Ends the term: sessions get a last message asking them to disconnect, streams end, waiting
    /// registrations fail with ``DispatcherError/stopped``, every timer is dropped. Returns the
    /// writes still queued, for a last commit.
    package func stop() -> WriteBatch? {
        guard isRunning else { return nil }
        let batch = takeWrites(force: true)
        isRunning = false
        for (index, sink) in sessionSinks {
            if let registration = registrations[index], let message = sessionMessage(for: registration, disconnect: true) {
                sink(.message(message))
            }
            sink(.finished(nil))
        }
        for (_, feed) in assignmentFeeds { feed.sink(.finished(.stopped)) }
        for registration in registrations.values {
            _ = try? wheel.remove(registration.handle)
            path.sessions.close(registration.handle.index)
            path.resetAdaptive(registration.handle.index)
        }
        for waiter in waiters { deferredCalls.append { waiter.resume(.stopped) } }
        waiters = []
        index.removeAll()
        registrations.removeAll()
        unknownNodes = [:]
        unknownQueue = []
        unknownQueueHead = 0
        registering = [:]
        sessionSinks = [:]
        assignmentFeeds = [:]
        dirtyFeeds = []
        downNodes = [:]
        orphanQueue = []
        orphanQueueHead = 0
        nodeWrites = [:]
        taskWrites = [:]
        orphanWrites = []
        return batch
    }

    // MARK: Registration

    /// Checks and queues a registration (or a resume of `resume`, which skips the rate limit):
    /// the node's READY write joins the next flush, and `onCommitted` runs when that flush has
    /// committed (or failed). Then call ``completeRegistration(_:at:)``.
    package func beginRegistration(
        node: NodeID, description: NodeDescription?, address: String, resume: SessionID?, at now: BeaconInstant,
        onCommitted: @escaping (DispatcherError?) -> Void
    ) throws(DispatcherError) -> PendingRegistration {
        guard isRunning else { throw .stopped }
        var resumed: SessionID?
        if let resume, validSession(node: node, session: resume) {
            resumed = resume
        } else if let slot = slot(of: node), var registration = registrations[slot] {
            try checkRateLimit(&registration.limit, node: node, since: registration.registeredAt, at: now)
            registration.registeredAt = now
            registrations[slot] = registration
        } else if var unknown = unknownNodes[node] {
            try checkRateLimit(&unknown.limit, node: node, since: unknown.registeredAt, at: now)
            unknown.registeredAt = now
            unknownNodes[node] = unknown
        }
        guard store.node(node) != nil else { throw .nodeNotFound(node.rawValue) }
        registering[node, default: RegistrationInFlight()].count += 1
        nodeWrites[node] = PendingNodeWrite(
            status: NodeStatus(state: .ready, address: address), description: description)
        cancelOrphanTimer(node)
        waiters.append(Waiter(generation: nextGeneration, resume: onCommitted))
        return PendingRegistration(node: node, term: term, resumed: resumed)
    }

    /// SwarmKit's limit: the window restarts when the last counted registration is older than the
    /// period; more than `rateLimitCount` registrations within it are refused (and not counted).
    private func checkRateLimit(
        _ limit: inout RateLimit, node: NodeID, since last: BeaconInstant?, at now: BeaconInstant
    ) throws(DispatcherError) {
        let window = configuration.rateLimitPeriod
        if let last, now.duration(since: last) <= window, window > .zero {
            limit.attempts += 1
        } else {
            limit.attempts = 1
        }
        guard limit.attempts <= configuration.rateLimitCount else {
            limit.attempts -= 1
            throw .rateLimited(node: node.rawValue, attempts: configuration.rateLimitCount, window: window)
        }
    }

    /// Finishes a registration once its flush reported `commitError`: on success issues the
    /// session — a new random session id (or the resumed one), a fresh deadline, and the first
    /// session message; a session the node held before ends with ``DispatcherError/sessionInvalid``.
    ///
    /// A deadline of the node that passed while the READY write was in flight does not mark it
    /// DOWN: the registration is newer evidence that it lives. Only if the registration fails
    /// (the commit failed, or no session can be issued) is the node marked DOWN then.
    package func completeRegistration(
        _ pending: PendingRegistration, commitError: DispatcherError?, at now: BeaconInstant
    ) throws(DispatcherError) -> SessionMessage {
        guard isRunning, pending.term == term else { throw .stopped }
        do throws(DispatcherError) {
            if let commitError { throw commitError }
            let message = try issueSession(pending, at: now)
            endFlight(of: pending.node, registered: true, at: now)
            return message
        } catch {
            endFlight(of: pending.node, registered: false, at: now)
            throw error
        }
    }

    private func endFlight(of node: NodeID, registered: Bool, at now: BeaconInstant) {
        guard var flight = registering[node] else { return }
        flight.count -= 1
        if registered { flight.deadlinePassed = false }
        guard flight.count == 0 else {
            registering[node] = flight
            return
        }
        registering.removeValue(forKey: node)
        guard flight.deadlinePassed else { return }
        if unknownNodes.removeValue(forKey: node) != nil {
            releaseEmptyUnknownStorage()
            markDown(node, NodeStatus(state: .down, message: Self.unknownExpiryMessage), at: now)
        } else {
            markDown(node, NodeStatus(state: .down, message: Self.expiryMessage), at: now)
        }
    }

    private func issueSession(_ pending: PendingRegistration, at now: BeaconInstant) throws(DispatcherError) -> SessionMessage {
        if let resumed = pending.resumed, validSession(node: pending.node, session: resumed),
            let registration = registrations[resumed.handle.index],
            let message = sessionMessage(for: registration, disconnect: false)
        {
            return message
        }
        var secret: UInt64 = 0
        while secret == 0 { secret = random.next() }
        let draw = path.draw(random: secret, grace: path.settings.grace)
        // SwarmKit's `Add`: a new wheel record at the normal grace replaces the node's old one (or
        // its UNKNOWN deadline), and the rate-limit count carries over.
        var carried = (limit: RateLimit(), registeredAt: now)
        if let unknown = unknownNodes[pending.node] {
            carried = (unknown.limit, unknown.registeredAt ?? now)
        } else if slot(of: pending.node) == nil, registrations.count >= configuration.maximumNodes {
            throw .capacityExhausted(configuration.maximumNodes)
        }
        if let slot = slot(of: pending.node), let existing = registrations[slot] {
            carried = (existing.limit, existing.registeredAt)
            endStreams(of: slot, with: .sessionInvalid)
            _ = try? wheel.remove(existing.handle)
            forget(slot)
        }
        let handle: HeartbeatHandle
        do {
            handle = try wheel.register(ttl: draw.ttl)
        } catch {
            throw wheelFailure(error)
        }
        unknownNodes.removeValue(forKey: pending.node)
        let registration = Registration(
            node: pending.node, handle: handle, registeredAt: carried.registeredAt, limit: carried.limit)
        registrations[handle.index] = registration
        index.insert(pending.node, slot: handle.index) { registrations[$0]?.node }
        releaseEmptyUnknownStorage()
        path.resetAdaptive(registration.handle.index)
        path.sessions.open(registration.handle.index, fingerprint: pending.node.fingerprint, secret: secret)
        counters.registrations += 1
        guard let message = sessionMessage(for: registration, disconnect: false) else {
            throw .nodeNotFound(pending.node.rawValue)
        }
        return message
    }

    /// Streams session messages for the node's current session to `sink`, replacing any earlier
    /// sink of that session.
    package func attachSessionSink(node: NodeID, session: SessionID, _ sink: @escaping SessionSink) throws(DispatcherError) {
        try validate(node: node, session: session)
        sessionSinks[session.handle.index] = sink
    }

    // MARK: Sessions

    private func validSession(node: NodeID, session: SessionID) -> Bool {
        guard path.sessions.validates(session, fingerprint: node.fingerprint),
            let registration = registrations[session.handle.index]
        else { return false }
        return registration.handle == session.handle && registration.node == node
    }

    /// Throws what SwarmKit's `GetWithSession` would: stopped, not registered, or invalid.
    package func validate(node: NodeID, session: SessionID) throws(DispatcherError) {
        guard isRunning else { throw .stopped }
        guard validSession(node: node, session: session) else { throw failure(node: node) }
    }

    /// Why a session check failed for `node`.
    package func failure(node: NodeID) -> DispatcherError {
        guard isRunning else { return .stopped }
        return slot(of: node) == nil && unknownNodes[node] == nil ? .nodeNotRegistered : .sessionInvalid
    }

    /// The heartbeat through the lock-free path, with the error worked out here when it fails.
    package func heartbeat(node: NodeID, session: SessionID) throws(DispatcherError) -> Duration {
        if let period = path.beat(node: node, session: session) { return period }
        throw failure(node: node)
    }

    private func sessionMessage(for registration: Registration, disconnect: Bool) -> SessionMessage? {
        guard let node = store.node(registration.node) else { return nil }
        return SessionMessage(
            sessionID: sessionID(of: registration), node: node,
            managers: managers, networkBootstrapKeys: cluster.networkBootstrapKeys, rootCA: cluster.rootCA,
            disconnect: disconnect)
    }

    private func sessionID(of registration: Registration) -> SessionID {
        SessionID(handle: registration.handle, secret: path.sessions.secret(registration.handle.index))
    }

    /// The raft peers changed: every session hears the new list.
    package func updateManagers(_ managers: [WeightedManager]) {
        self.managers = managers
        broadcastSessionMessages()
    }

    private func broadcastSessionMessages() {
        for (index, sink) in sessionSinks {
            if let registration = registrations[index], let message = sessionMessage(for: registration, disconnect: false) {
                sink(.message(message))
            }
        }
    }

    private func endStreams(of index: UInt32, with error: DispatcherError) {
        sessionSinks.removeValue(forKey: index)?(.finished(error))
        if let feed = assignmentFeeds.removeValue(forKey: index) {
            dirtyFeeds.remove(index)
            feed.sink(.finished(error))
        }
    }

    private func slot(of node: NodeID) -> UInt32? {
        index.slot(of: node) { registrations[$0]?.node }
    }

    private func forget(_ slot: UInt32) {
        guard let registration = registrations[slot] else { return }
        if self.slot(of: registration.node) == slot {
            index.remove(registration.node) { registrations[$0]?.node }
        }
        registrations.removeValue(forKey: slot)
        path.sessions.close(slot)
        path.resetAdaptive(slot)
    }

    // MARK: Expiry

    /// The wheel reported these nodes' deadlines passed: each becomes DOWN (one queued write per
    /// node, flushed in batches), loses its session, and starts its orphan timer.
    package func expire(_ expiry: HeartbeatExpiry, at now: BeaconInstant) {
        for handle in expiry.handles {
            guard let registration = registrations[handle.index], registration.handle == handle else { continue }
            let status = NodeStatus(state: .down, message: Self.expiryMessage)
            if let sink = sessionSinks[handle.index], var message = sessionMessage(for: registration, disconnect: false) {
                message.node.status.state = .down
                message.node.status.message = status.message
                sink(.message(message))
            }
            endStreams(of: handle.index, with: .nodeNotRegistered)
            forget(handle.index)
            markDown(registration.node, status, at: now)
        }
    }

    /// Once no node is UNKNOWN, gives back the table and queue a leadership change filled: a
    /// dictionary keeps its capacity as entries are removed.
    private func releaseEmptyUnknownStorage() {
        guard unknownNodes.isEmpty, unknownQueue.capacity > 0 || unknownNodes.capacity > 0 else { return }
        unknownNodes = [:]
        unknownQueue = []
        unknownQueueHead = 0
    }

    private func markDown(_ node: NodeID, _ status: NodeStatus, at now: BeaconInstant) {
        if registering[node] != nil {
            registering[node]?.deadlinePassed = true
            return
        }
        if let observer = expiryObserver { deferredCalls.append { observer(node, now) } }
        counters.expiries += 1
        guard isRunning else { return }
        nodeWrites[node] = PendingNodeWrite(status: status, description: nodeWrites[node]?.description)
        startOrphanTimer(node, at: now)
    }

    private func startOrphanTimer(_ node: NodeID, at now: BeaconInstant) {
        nextOrphanToken += 1
        downNodes[node] = nextOrphanToken
        // Every timer runs for the same `orphanAfter`, so appending keeps the queue in deadline order.
        orphanQueue.append(OrphanTimer(deadline: now.advanced(by: configuration.orphanAfter), node: node, token: nextOrphanToken))
    }

    private func cancelOrphanTimer(_ node: NodeID) {
        downNodes.removeValue(forKey: node)
    }

    /// Fires the timers the wheel does not hold: UNKNOWN nodes that did not register within their
    /// doubled grace become DOWN, and nodes DOWN for `orphanAfter` have their tasks orphaned.
    package func fireTimers(at now: BeaconInstant) {
        while unknownQueueHead < unknownQueue.count, unknownQueue[unknownQueueHead].deadline <= now {
            let (deadline, node) = unknownQueue[unknownQueueHead]
            unknownQueueHead += 1
            guard let unknown = unknownNodes[node], unknown.deadline == deadline else { continue }
            if registering[node] != nil {
                // Kept (with its rate-limit count) until the registration completes or fails.
                registering[node]?.deadlinePassed = true
                continue
            }
            unknownNodes.removeValue(forKey: node)
            releaseEmptyUnknownStorage()
            markDown(node, NodeStatus(state: .down, message: Self.unknownExpiryMessage), at: now)
        }
        releaseEmptyUnknownStorage()
        while orphanQueueHead < orphanQueue.count, orphanQueue[orphanQueueHead].deadline <= now {
            let timer = orphanQueue[orphanQueueHead]
            orphanQueueHead += 1
            guard downNodes[timer.node] == timer.token else { continue }
            downNodes.removeValue(forKey: timer.node)
            orphanWrites.append(timer.node)
            counters.orphaned += 1
        }
        if orphanQueueHead > 1024, orphanQueueHead * 2 > orphanQueue.count {
            orphanQueue.removeFirst(orphanQueueHead)
            orphanQueueHead = 0
        }
    }

    // MARK: Task status

    /// Queues status reports from `node`. A task of another node refuses the whole call and
    /// queues nothing; unknown tasks and empty statuses are skipped; within a flush the last
    /// report per task wins. Backward moves are dropped by the store when the batch commits.
    package func updateTaskStatus(node: NodeID, session: SessionID, _ updates: [TaskStatusUpdate]) throws(DispatcherError) {
        try validate(node: node, session: session)
        var accepted: [(String, TaskStatus)] = []
        accepted.reserveCapacity(updates.count)
        for update in updates {
            guard let status = update.status, let task = store.task(update.taskID) else { continue }
            guard task.nodeID == node else {
                throw .permissionDenied("cannot update a task not assigned this node")
            }
            accepted.append((update.taskID, status))
        }
        for (id, status) in accepted { taskWrites[id] = status }
    }

    // MARK: Flushing writes

    /// Whether queued writes should be flushed now: the batch is full, or the interval passed.
    package func isFlushDue(at now: BeaconInstant) -> Bool {
        let pending = pendingWriteCount
        guard pending > 0 || !waiters.isEmpty else { return false }
        return pending >= configuration.statusBatchLimit || now.duration(since: lastFlush) >= configuration.statusBatchInterval
    }

    /// Takes the queued writes as one batch; nil when nothing is queued and nobody waits.
    package func takeWrites(at now: BeaconInstant) -> WriteBatch? {
        lastFlush = now
        return takeWrites(force: false)
    }

    private func takeWrites(force: Bool) -> WriteBatch? {
        guard pendingWriteCount > 0 || !waiters.isEmpty || force else { return nil }
        var writes: [DispatcherWrite] = []
        writes.reserveCapacity(pendingWriteCount)
        for (id, write) in nodeWrites { writes.append(.nodeStatus(id, write.status, description: write.description)) }
        for (id, status) in taskWrites { writes.append(.taskStatus(taskID: id, status)) }
        for node in orphanWrites { writes.append(.orphanTasks(node: node)) }
        nodeWrites = [:]
        taskWrites = [:]
        orphanWrites = []
        let batch = WriteBatch(writes: writes, generation: nextGeneration, term: term)
        nextGeneration += 1
        counters.flushes += 1
        counters.writes += writes.count
        return batch
    }

    /// The batch committed (or failed with `error`): registrations waiting on it resume.
    /// Registrations are numbered by generation, so one that queued just after a batch was taken
    /// waits for the next one, never for a flush that already happened (SwarmKit's missed wake-up).
    package func writesCommitted(_ batch: WriteBatch, error: DispatcherError?) {
        guard batch.term == term else { return }
        for waiter in waiters where waiter.generation <= batch.generation {
            deferredCalls.append { waiter.resume(error) }
        }
        waiters.removeAll { $0.generation <= batch.generation }
    }

    // MARK: Store events

    /// A change the store committed.
    package func handle(_ event: StoreEvent, at now: BeaconInstant) {
        guard isRunning else { return }
        switch event {
        case .nodeUpdated(let node):
            if let index = slot(of: node.id), let sink = sessionSinks[index], let registration = registrations[index] {
                sink(.message(SessionMessage(
                    sessionID: sessionID(of: registration), node: node,
                    managers: managers, networkBootstrapKeys: cluster.networkBootstrapKeys, rootCA: cluster.rootCA,
                    disconnect: false)))
            }
        case .clusterUpdated(let settings):
            cluster = settings
            broadcastSessionMessages()
        case .taskUpdated(let task):
            guard let node = task.nodeID, let index = slot(of: node) else { return }
            do throws(TaskDiffError) {
                // Through the optional chain the feed is changed in place, not copied out and back.
                if try assignmentFeeds[index]?.assignments.addOrUpdate(task, at: now) == true { dirtyFeeds.insert(index) }
            } catch {
                failFeed(index, error)
            }
        case .taskDeleted(let task):
            guard let node = task.nodeID, let index = slot(of: node) else { return }
            if assignmentFeeds[index]?.assignments.remove(task, at: now) == true { dirtyFeeds.insert(index) }
        }
    }

    // MARK: Assignments

    /// Opens the node's assignment stream: the first message (COMPLETE) goes to `sink` at once,
    /// INCREMENTAL ones as ``flushAssignments(at:)`` finds them due. A stream the node had open
    /// ends (normally) and is replaced: reopening is how a node asks for a COMPLETE set.
    package func openAssignments(
        node: NodeID, session: SessionID, at now: BeaconInstant, _ sink: @escaping AssignmentSink
    ) throws(DispatcherError) {
        try validate(node: node, session: session)
        let index = session.handle.index
        if let previous = assignmentFeeds.removeValue(forKey: index) { previous.sink(.finished(nil)) }
        var assignments = NodeAssignments(store: store, configuration: configuration.assignmentBatching)
        let messages: [AssignmentMessage]
        do {
            for task in store.tasks(on: node) { _ = try assignments.addOrUpdate(task, at: now) }
            messages = try assignments.flushIfDue(at: now)
        } catch {
            throw .invalidArgument("the node's assignments cannot be sent: \(error)")
        }
        assignmentFeeds[index] = (assignments, sink)
        deliver(messages, to: sink)
    }

    /// Sends every assignment batch that is due.
    package func flushAssignments(at now: BeaconInstant) {
        for index in dirtyFeeds {
            // No copy of the feed is held while it is flushed: a second reference would make the
            // flush copy the batcher's storage.
            guard let sink = assignmentFeeds[index]?.sink, let due = assignmentFeeds[index]?.assignments.batcher.isFlushDue(at: now) else {
                dirtyFeeds.remove(index)
                continue
            }
            guard due else { continue }
            do throws(TaskDiffError) {
                let messages = try assignmentFeeds[index]?.assignments.flushIfDue(at: now) ?? []
                deliver(messages, to: sink)
                dirtyFeeds.remove(index)
            } catch {
                failFeed(index, error)
            }
        }
    }

    /// When there is next something to do (a flush, an assignment batch, an UNKNOWN or orphan
    /// timer), for a shell that sleeps until then; nil when nothing is pending. Expiries are not
    /// included: the wheel's own thread reports them.
    package func nextWakeup(after now: BeaconInstant) -> BeaconInstant? {
        var next: BeaconInstant?
        func consider(_ instant: BeaconInstant?) {
            if let instant { next = min(next ?? instant, instant) }
        }
        if pendingWriteCount > 0 || !waiters.isEmpty {
            consider(pendingWriteCount >= configuration.statusBatchLimit ? now : lastFlush.advanced(by: configuration.statusBatchInterval))
        }
        for index in dirtyFeeds {
            guard let batcher = assignmentFeeds[index]?.assignments.batcher else { continue }
            consider(batcher.isFlushDue(at: now) ? now : batcher.flushDeadline)
        }
        if unknownQueueHead < unknownQueue.count { consider(unknownQueue[unknownQueueHead].deadline) }
        if orphanQueueHead < orphanQueue.count { consider(orphanQueue[orphanQueueHead].deadline) }
        return next
    }

    private func deliver(_ messages: [AssignmentMessage], to sink: AssignmentSink) {
        for message in messages {
            counters.assignmentMessages += 1
            counters.assignmentBytes += message.bytes.count
            sink(.message(message))
        }
    }

    private func failFeed(_ index: UInt32, _ error: TaskDiffError) {
        dirtyFeeds.remove(index)
        assignmentFeeds.removeValue(forKey: index)?.sink(.finished(.invalidArgument("assignments cannot be sent: \(error)")))
    }

    private func wheelFailure(_ error: HeartbeatError) -> DispatcherError {
        if case .capacityExhausted = error { return .capacityExhausted(configuration.maximumNodes) }
        return .invalidArgument("heartbeat wheel refused the node: \(error)")
    }
}

/// Calls the core owed to code outside it, taken with ``DispatcherCore/takeDeferredCalls()``.
package struct DeferredCalls {
    fileprivate var calls: [() -> Void] = []

    /// Makes the calls, in the order they were owed.
    package func perform() {
        for call in calls { call() }
    }
}
