package import BeaconCore

/// The dispatcher's logic as a state machine: every input carries the time, every output is a
/// value or a call to a sink the caller supplied, and nothing here sleeps, spawns or locks.
///
/// It coordinates four sub-machines, each a value with no clock or lock that returns what must be
/// done: ``SessionRegistry`` (who holds which session, rate limits, session streams),
/// ``LivenessTimers`` (UNKNOWN nodes, registrations in flight, orphan timers),
/// ``StatusBatcher`` (the store writes and the registrations waiting for them) and
/// ``AssignmentFeeds`` (assignment streams and their debounce). The core routes each input to them
/// and performs the side effects that span them: the heartbeat wheel and the lock-free
/// ``SessionTable``, store reads, session messages, and the calls below.
///
/// Calls to code outside the dispatcher (registrations waiting for their commit, the expiry
/// observer) are not made here: they queue until the shell takes them with
/// ``takeDeferredCalls()`` and makes them after releasing its lock, so a waiter that registers
/// again or an observer that reads the dispatcher never runs under the lock. Stream sinks are
/// the exception: they only buffer, and calling them under the lock is what keeps each stream's
/// messages in order when several threads feed it (the loop's assignment batches, store events,
/// expiries).
///
/// ``Dispatcher`` runs it behind a lock; tests and `beacon simulate --virtual-time` drive it
/// through ``VirtualDispatcher`` on a manual clock. Heartbeats bypass it: ``HeartbeatPath``
/// checks sessions and beats the wheel without the lock, and the core only writes the session
/// table the path reads.
package final class DispatcherCore<Clock: BeaconClock> {
    package typealias SessionSink = StreamEvent<SessionMessage>.Sink
    package typealias AssignmentSink = StreamEvent<AssignmentMessage>.AnsweringSink
    package typealias WriteBatch = StatusBatcher.WriteBatch
    package typealias Counters = DispatcherCounters

    static var expiryMessage: String { "heartbeat failure" }
    static var unknownExpiryMessage: String { "heartbeat failure for node in \"unknown\" state" }
    static var registrationFailureMessage: String { "registration failed" }
    static var leadershipChangeMessage: String { "Node moved to \"unknown\" state due to leadership change in cluster" }

    /// A registration whose READY write is queued; complete it once that write committed.
    package struct PendingRegistration: Sendable {
        let node: NodeID
        let term: UInt64
        /// The session being resumed, if any.
        let resumed: SessionID?
        /// What its READY write carries, to write again if another manager's status buried it.
        let address: String
        let description: NodeDescription?
    }

    package let configuration: DispatcherConfiguration
    package let path: HeartbeatPath<Clock>
    private let store: any DispatcherStore
    private var wheel: HeartbeatWheel<Clock> { path.wheel }

    package private(set) var isRunning = false
    private var term: UInt64 = 0
    private var sessions = SessionRegistry()
    private var liveness: LivenessTimers
    private var statuses: StatusBatcher
    private var feeds = AssignmentFeeds()

    private var managers: [WeightedManager]
    /// This dispatcher's part of a sharded deployment; nil when it holds every node.
    private var shard: DispatcherShard?
    private var cluster = ClusterSettings()
    private var random = SystemRandomNumberGenerator()
    private var expiries = 0
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
        liveness = LivenessTimers(orphanAfter: configuration.orphanAfter)
        statuses = StatusBatcher(limit: configuration.statusBatchLimit, interval: configuration.statusBatchInterval)
    }

    /// The calls owed since the last take, in the order they were owed; make them with
    /// ``DeferredCalls/perform()`` once the core's lock is released.
    package func takeDeferredCalls() -> DeferredCalls {
        guard !deferredCalls.isEmpty else { return DeferredCalls() }
        defer { deferredCalls = [] }
        return DeferredCalls(calls: deferredCalls)
    }

    /// Counters for metrics and reports.
    package var counters: Counters {
        Counters(
            registrations: sessions.issued, expiries: expiries, flushes: statuses.flushes, writes: statuses.writeCount,
            assignmentMessages: feeds.messageCount, assignmentBytes: feeds.byteCount,
            oversizedAssignments: feeds.oversizedCount, orphaned: liveness.orphaned)
    }

    /// The node's liveness as this term sees it now, ahead of the store (whose writes wait for
    /// the next flush): READY while it holds a session, UNKNOWN while a node carried over from
    /// the previous leader has not registered, DOWN from a missed deadline until it registers
    /// again or its orphan timer fires; nil otherwise.
    package func liveness(of node: NodeID) -> NodeState? {
        if sessions.slot(of: node) != nil { return .ready }
        if liveness.unknown(node) != nil { return .unknown }
        if liveness.isDown(node) { return .down }
        return nil
    }

    /// Registered nodes and nodes awaiting re-registration (UNKNOWN).
    package var nodeCount: Int { sessions.count + liveness.unknownCount }
    package var unknownCount: Int { liveness.unknownCount }
    package var downCount: Int { liveness.downCount }
    package var pendingWriteCount: Int { statuses.pendingCount }
    /// Assignment streams the core feeds: open, and not known to have ended or lost their reader.
    package var assignmentStreamCount: Int { feeds.count }

    // MARK: Leadership

    /// Starts a term: every node the store holds that is not DOWN becomes UNKNOWN with the longer
    /// grace and no valid session; DOWN nodes restart their orphan timers. Nothing from a
    /// previous term survives (SwarmKit PR 2091).
    ///
    /// With a shard (``updateShard(_:at:)``), only the nodes it holds.
    ///
    /// A store holding more live nodes than `maximumNodes` does not stop the term (it used to,
    /// and then no manager configured alike could lead): every one becomes UNKNOWN, the first
    /// `maximumNodes` to register get sessions (``hasRoomForSession(_:)``), and the rest are
    /// refused until UNKNOWN nodes that do not come back are DOWN.
    package func start(at now: BeaconInstant) throws(DispatcherError) {
        guard !isRunning else { throw .alreadyRunning }
        let nodes = store.allNodes().filter { holds($0.id) }
        isRunning = true
        term += 1
        statuses.restartInterval(at: now)
        cluster = store.clusterSettings()
        adopt(nodes, at: now)
    }

    /// Takes over `nodes` as a new leader does: a non-DOWN node becomes UNKNOWN with the longer
    /// grace until it registers here; a DOWN node restarts its orphan timer.
    private func adopt(_ nodes: [Node], at now: BeaconInstant) {
        var unknown: [(deadline: BeaconInstant, node: NodeID)] = []
        for node in nodes {
            if node.status.state == .down {
                liveness.startOrphanTimer(node.id, at: now, inherited: true)
                continue
            }
            let draw = path.settings.unknownHeartbeat.next(random: random.next())
            unknown.append((now.advanced(by: draw.ttl.duration), node.id))
            statuses.queueNodeStatus(
                node.id, NodeStatus(state: .unknown, message: Self.leadershipChangeMessage), description: nil)
        }
        liveness.startUnknown(unknown)
    }

    /// Ends the term: sessions get a last message asking them to disconnect, streams end, waiting
    /// registrations fail with ``DispatcherError/stopped``, every timer is dropped. Returns the
    /// writes still queued, for a last commit.
    package func stop() -> WriteBatch? {
        guard isRunning else { return nil }
        let batch = statuses.takeAll(term: term)
        isRunning = false
        for (slot, sink) in sessions.sinks {
            if let registration = sessions[slot], let message = sessionMessage(for: registration, disconnect: true) {
                sink(.message(message))
            }
            sink(.finished(nil))
        }
        for delivery in feeds.endAll(with: .stopped) { delivery.perform() }
        for registration in sessions.all {
            _ = try? wheel.remove(registration.handle)
            path.sessions.close(registration.handle.index)
            path.resetAdaptive(registration.handle.index)
        }
        for resume in statuses.takeWaiters() { deferredCalls.append { resume(.stopped) } }
        sessions.removeAll()
        liveness.removeAll()
        return batch
    }

    // MARK: Registration

    /// Checks and queues a registration (or a resume of `resume`, which skips the rate limit):
    /// the node's READY write joins the next flush, and `onCommitted` runs when that flush has
    /// committed (or failed). Then call ``completeRegistration(_:commitError:at:)``.
    package func beginRegistration(
        node: NodeID, description: NodeDescription?, address: String, resume: SessionID?, at now: BeaconInstant,
        onCommitted: @escaping (DispatcherError?) -> Void
    ) throws(DispatcherError) -> PendingRegistration {
        guard isRunning else { throw .stopped }
        if let refusal = refusal(ofForeign: node) { throw refusal }
        // Refused before its READY write is queued: one that committed and then found no room
        // for a session would leave the node READY with no session. (Registrations in flight
        // together can still overfill the table; `settleFailedRegistration` answers those.)
        if sessions.slot(of: node) == nil, !hasRoomForSession(node) {
            throw .capacityExhausted(configuration.maximumNodes)
        }
        let window = configuration.rateLimitPeriod
        let count = configuration.rateLimitCount
        var resumed: SessionID?
        if let resume, validSession(node: node, session: resume) {
            resumed = resume
        } else if let slot = sessions.slot(of: node) {
            try sessions.admitRegistration(inSlot: slot, at: now, window: window, count: count)
        } else if liveness.unknown(node) != nil {
            try liveness.admitRegistration(ofUnknown: node, at: now, window: window, count: count)
        } else if window > .zero, liveness.registrationsInFlight(of: node) >= count {
            // A node with neither a session nor an UNKNOWN deadline has no count to carry: its
            // registrations in flight are what the limit counts, or parallel calls would each
            // take a session (and a wheel record) within one window.
            throw .rateLimited(node: node.rawValue, attempts: count, window: window)
        }
        guard store.node(node) != nil else { throw .nodeNotFound(node.rawValue) }
        liveness.beginRegistration(of: node)
        statuses.queueNodeStatus(node, NodeStatus(state: .ready, address: address), description: description)
        statuses.waitForNextBatch(onCommitted)
        return PendingRegistration(
            node: node, term: term, resumed: resumed, address: address, description: description)
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
            // The shard may have moved the node to another manager while its write was in flight
            // (and its READY write was dropped then, even if the node has moved back since: the
            // node asks again).
            if let refusal = refusal(ofForeign: pending.node) { throw refusal }
            if liveness.isVoided(pending.node) { throw .sessionInvalid }
            let message = try issueSession(pending, at: now)
            endFlight(of: pending.node, registered: true, at: now)
            // The READY write committed, but may have been dropped as overtaken by another
            // manager's (see `reconcile`).
            reconcile(pending.node, stored: store.node, registered: pending)
            return message
        } catch {
            let markedDown = endFlight(of: pending.node, registered: false, at: now)
            // A failed commit may have landed in part (a batch too large for one transaction
            // commits in several), so the record, not the error, says whether the READY is there.
            if !markedDown, commitError == nil || store.node(pending.node)?.status.state == .ready {
                settleFailedRegistration(of: pending.node, at: now)
            }
            // Another registration of the node that ended first left the check to this one.
            reconcile(pending.node, stored: store.node)
            throw error
        }
    }

    /// Ends one registration of `node`; true when that marked the node DOWN (a deadline of its
    /// passed meanwhile and no registration succeeded).
    @discardableResult
    private func endFlight(of node: NodeID, registered: Bool, at now: BeaconInstant) -> Bool {
        let missed = liveness.endRegistration(of: node, registered: registered)
        for orphan in liveness.takeOrphansAfterFailedRegistrations() { statuses.queueOrphanTasks(of: orphan) }
        guard let missed else { return false }
        markDown(node, missed, at: now)
        return true
    }

    /// A registration failed after its READY write committed (no room for a session, the node
    /// voided by a shard move, the wheel refusing a record): the record says READY with no
    /// session behind it, unless the node still has a session or another registration of it is
    /// still in flight. A node still UNKNOWN (carried over, and refused because the sessions were
    /// full) is UNKNOWN again, which its deadline will turn DOWN if it does not register in time.
    /// Any other is DOWN, with an orphan timer (a node already DOWN keeps the one it has): nothing
    /// here would ever mark it DOWN otherwise.
    private func settleFailedRegistration(of node: NodeID, at now: BeaconInstant) {
        guard isRunning, holds(node), !liveness.isRegistering(node), sessions.slot(of: node) == nil else { return }
        if liveness.unknown(node) != nil {
            statuses.queueNodeStatusKeepingDescription(
                node, NodeStatus(state: .unknown, message: Self.leadershipChangeMessage))
            return
        }
        if !liveness.isDown(node) { liveness.startOrphanTimer(node, at: now) }
        statuses.queueNodeStatusKeepingDescription(
            node, NodeStatus(state: .down, message: Self.registrationFailureMessage))
    }

    /// Whether a node with no session may take one. A new node counts against every node held,
    /// registered or UNKNOWN; an UNKNOWN node, already counted, against the sessions alone. A term
    /// can hold more UNKNOWN nodes than `maximumNodes` (the store held more live ones when it
    /// started, or a shard change brought them), and never more sessions.
    private func hasRoomForSession(_ node: NodeID) -> Bool {
        liveness.unknown(node) != nil
            ? sessions.count < configuration.maximumNodes : nodeCount < configuration.maximumNodes
    }

    private func issueSession(_ pending: PendingRegistration, at now: BeaconInstant) throws(DispatcherError)
        -> SessionMessage
    {
        if let resumed = pending.resumed, validSession(node: pending.node, session: resumed),
            let registration = sessions[resumed.handle.index],
            let message = sessionMessage(for: registration, disconnect: false)
        {
            return message
        }
        var secret: UInt64 = 0
        while secret == 0 { secret = random.next() }
        let draw = path.settings.heartbeat.next(random: secret)
        // SwarmKit's `Add`: a new wheel record at the normal grace replaces the node's old one (or
        // its UNKNOWN deadline), and the rate-limit count carries over.
        var carried = (limit: RegistrationRateLimit(), registeredAt: now)
        let replaced = sessions.slot(of: pending.node).flatMap { slot in sessions[slot].map { (slot, $0) } }
        if replaced == nil, !hasRoomForSession(pending.node) {
            throw .capacityExhausted(configuration.maximumNodes)
        }
        if let unknown = liveness.unknown(pending.node) {
            carried = (unknown.limit, unknown.registeredAt ?? now)
        } else if let (_, existing) = replaced {
            carried = (existing.limit, existing.registeredAt)
        }
        // The new record first: a wheel with no record to spare (a removed one is recycled only
        // once its old deadline has passed) refuses this registration and leaves the node's
        // session as it was, where ending the session first left a live node with none, written
        // DOWN.
        let handle: HeartbeatHandle
        do {
            handle = try wheel.register(ttl: draw.ttl)
        } catch {
            throw wheelFailure(error)
        }
        if let (slot, existing) = replaced {
            endStreams(of: slot, with: .sessionInvalid)
            _ = try? wheel.remove(existing.handle)
            forget(slot)
        }
        liveness.removeUnknown(pending.node)
        let registration = SessionRegistry.Registration(
            node: pending.node, handle: handle, registeredAt: carried.registeredAt, limit: carried.limit)
        sessions.insert(registration)
        path.resetAdaptive(handle.index)
        path.sessions.open(handle.index, fingerprint: pending.node.fingerprint, secret: secret)
        guard let message = sessionMessage(for: registration, disconnect: false) else {
            throw .nodeNotFound(pending.node.rawValue)
        }
        return message
    }

    /// Streams session messages for the node's current session to `sink`, replacing any earlier
    /// sink of that session, which ends (normally: its session is still valid, now on the new
    /// stream).
    package func attachSessionSink(node: NodeID, session: SessionID, _ sink: @escaping SessionSink)
        throws(DispatcherError)
    {
        try validate(node: node, session: session)
        // A resumed session's new stream replaces the old one, which ends: its reader would
        // otherwise wait for messages that now go to the new stream.
        sessions.attach(sink, toSlot: session.handle.index)?(.finished(nil))
    }

    // MARK: Sessions

    private func validSession(node: NodeID, session: SessionID) -> Bool {
        path.sessions.validates(session, fingerprint: node.fingerprint) && sessions.holds(session, of: node)
    }

    /// Throws what SwarmKit's `GetWithSession` would: stopped, not registered, or invalid.
    package func validate(node: NodeID, session: SessionID) throws(DispatcherError) {
        guard isRunning else { throw .stopped }
        guard validSession(node: node, session: session) else { throw failure(node: node) }
    }

    /// Why a session check failed for `node`.
    package func failure(node: NodeID) -> DispatcherError {
        guard isRunning else { return .stopped }
        if let refusal = refusal(ofForeign: node) { return refusal }
        return sessions.slot(of: node) == nil && liveness.unknown(node) == nil ? .nodeNotRegistered : .sessionInvalid
    }

    /// The heartbeat through the lock-free path, with the error worked out here when it fails.
    package func heartbeat(node: NodeID, session: SessionID) throws(DispatcherError) -> Duration {
        if let period = path.beat(node: node, session: session) { return period }
        throw failure(node: node)
    }

    private func sessionMessage(
        for registration: SessionRegistry.Registration, node: Node? = nil, disconnect: Bool
    ) -> SessionMessage? {
        guard let node = node ?? store.node(registration.node) else { return nil }
        return SessionMessage(
            sessionID: SessionID(
                handle: registration.handle, secret: path.sessions.currentSecret(registration.handle.index)),
            node: node, managers: managers, networkBootstrapKeys: cluster.networkBootstrapKeys, rootCA: cluster.rootCA,
            disconnect: disconnect)
    }

    /// The raft peers changed: every session hears the new list.
    package func updateManagers(_ managers: [WeightedManager]) {
        self.managers = managers
        broadcastSessionMessages()
    }

    private func broadcastSessionMessages() {
        for (slot, sink) in sessions.sinks {
            if let registration = sessions[slot], let message = sessionMessage(for: registration, disconnect: false) {
                sink(.message(message))
            }
        }
    }

    private func endStreams(of slot: UInt32, with error: DispatcherError) {
        sessions.detachSink(ofSlot: slot)?(.finished(error))
        feeds.end(slot, with: error)?.perform()
    }

    /// Drops the registration in `slot` and closes its session in the lock-free table.
    private func forget(_ slot: UInt32) {
        guard sessions.remove(slot) != nil else { return }
        path.sessions.close(slot)
        path.resetAdaptive(slot)
    }

    // MARK: Shards

    /// Whether this dispatcher holds `node`: always without a shard, else as its shard says.
    private func holds(_ node: NodeID) -> Bool {
        shard?.holds(node) ?? true
    }

    /// The error for a node this dispatcher does not hold, naming the manager that does; nil for
    /// a node it holds.
    private func refusal(ofForeign node: NodeID) -> DispatcherError? {
        guard let shard, !shard.holds(node) else { return nil }
        return .wrongManager(node: node.rawValue, owner: shard.table.owner(of: node))
    }

    /// What a shard change did to a running dispatcher.
    package struct ShardChange: Sendable, Equatable {
        /// Nodes with a session here that another manager holds now: their sessions ended.
        package var sessionsEnded = 0
        /// UNKNOWN or DOWN nodes that another manager holds now: their timers were dropped.
        package var timersDropped = 0
        /// Nodes this manager holds now and did not before, taken over as a new leader takes the
        /// store's nodes (UNKNOWN with the longer grace, or DOWN with an orphan timer).
        package var adopted = 0
    }

    /// Makes `shard` this dispatcher's part of the deployment. While running:
    /// - a node with a session here that another manager holds now gets a last session message
    ///   (with `disconnect` set and its owner first in the manager list), its streams end with
    ///   ``DispatcherError/wrongManager(node:owner:)`` and its deadline is dropped: the owner
    ///   decides its liveness from now on;
    /// - UNKNOWN and DOWN nodes another manager holds now are forgotten with their timers, and
    ///   the node statuses queued for any node another manager holds are dropped (its task
    ///   statuses stay: the node reported them while held here);
    /// - nodes this manager holds and did not before are taken over with the leader-start rules
    ///   (see ``start(at:)``), and only those;
    /// - every remaining session hears the new manager list.
    /// Before ``start(at:)``, it only decides which nodes the term will start with.
    @discardableResult
    package func updateShard(_ shard: DispatcherShard, at now: BeaconInstant) -> ShardChange {
        let previous = self.shard
        self.shard = shard
        managers = shard.sessionManagers
        var change = ShardChange()
        guard isRunning else { return change }
        for registration in Array(sessions.all) where !shard.holds(registration.node) {
            let slot = registration.handle.index
            if let sink = sessions.sinks[slot], var message = sessionMessage(for: registration, disconnect: true) {
                message.managers =
                    shard.table.owner(of: registration.node).map { owner in
                        [owner] + shard.table.managers.filter { $0 != owner }
                    } ?? message.managers
                sink(.message(message))
            }
            endStreams(of: slot, with: refusal(ofForeign: registration.node) ?? .sessionInvalid)
            _ = try? wheel.remove(registration.handle)
            forget(slot)
            change.sessionsEnded += 1
        }
        change.timersDropped = liveness.release { !shard.holds($0) }
        statuses.dropNodeWrites { !shard.holds($0) }
        let gained = store.allNodes().filter { node in
            shard.holds(node.id) && !(previous?.holds(node.id) ?? true) && sessions.slot(of: node.id) == nil
                && liveness.unknown(node.id) == nil && !liveness.isDown(node.id)
        }
        adopt(gained, at: now)
        change.adopted = gained.count
        broadcastSessionMessages()
        return change
    }

    // MARK: Expiry

    /// The wheel reported these nodes' deadlines passed: each becomes DOWN (one queued write per
    /// node, flushed in batches), loses its session, and starts its orphan timer.
    package func expire(_ expiry: HeartbeatExpiry, at now: BeaconInstant) {
        for handle in expiry.handles {
            guard let registration = sessions[handle.index], registration.handle == handle else { continue }
            // A node registering again is not DOWN (its registration is newer evidence): its old
            // session only ends.
            if !liveness.isRegistering(registration.node), let sink = sessions.sinks[handle.index],
                var message = sessionMessage(for: registration, disconnect: false)
            {
                message.node.status.state = .down
                message.node.status.message = Self.expiryMessage
                sink(.message(message))
            }
            endStreams(of: handle.index, with: .nodeNotRegistered)
            forget(handle.index)
            markDown(registration.node, .heartbeat, at: now)
        }
    }

    /// The node missed a deadline: unless a registration of it is in flight, it is DOWN, its
    /// write queues and its orphan timer starts.
    ///
    /// Only the manager that holds a node decides it is DOWN: a deadline of a node the shard
    /// moved away (a registration that was in flight when it moved) is not this manager's call.
    private func markDown(_ node: NodeID, _ missed: LivenessTimers.MissedDeadline, at now: BeaconInstant) {
        guard holds(node), liveness.deadlinePassed(node) else { return }
        if let observer = expiryObserver { deferredCalls.append { observer(node, now) } }
        expiries += 1
        guard isRunning else { return }
        let message = missed == .heartbeat ? Self.expiryMessage : Self.unknownExpiryMessage
        statuses.queueNodeStatusKeepingDescription(node, NodeStatus(state: .down, message: message))
        liveness.startOrphanTimer(node, at: now)
    }

    /// Fires the timers the wheel does not hold: UNKNOWN nodes that did not register within their
    /// doubled grace become DOWN, and nodes DOWN for `orphanAfter` have their tasks orphaned.
    package func fireTimers(at now: BeaconInstant) {
        for node in liveness.takeExpiredUnknown(at: now) { markDown(node, .unknownGrace, at: now) }
        for node in liveness.takeDueOrphans(at: now) { statuses.queueOrphanTasks(of: node) }
    }

    // MARK: Task status

    /// Queues status reports from `node`. A task of another node refuses the whole call and
    /// queues nothing; unknown tasks and empty statuses are skipped; within a flush the last
    /// report per task wins. Backward moves are dropped by the store when the batch commits.
    package func updateTaskStatus(node: NodeID, session: SessionID, _ updates: [TaskStatusUpdate])
        throws(DispatcherError)
    {
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
        for (id, status) in accepted { statuses.queueTaskStatus(id, status) }
    }

    // MARK: Flushing writes

    /// Whether queued writes should be flushed now: the batch is full, or the interval passed.
    package func isFlushDue(at now: BeaconInstant) -> Bool {
        statuses.isFlushDue(at: now)
    }

    /// Takes the queued writes as one batch; nil when nothing is queued and nobody waits.
    package func takeWrites(at now: BeaconInstant) -> WriteBatch? {
        statuses.takeBatch(at: now, term: term)
    }

    /// The batch committed (or failed with `error`): registrations waiting on it resume.
    package func writesCommitted(_ batch: WriteBatch, error: DispatcherError?) {
        guard batch.term == term else { return }
        for resume in statuses.committed(batch) { deferredCalls.append { resume(error) } }
        // A batch that failed is written again, but for what was decided since: task statuses
        // no newer report replaced, and orphanings of nodes still DOWN. The caller was told the
        // reports were taken, and a node marked DOWN in a quiet cluster would otherwise stay
        // READY in the store until it registered again.
        // Not after `stop()`: what a stopped term failed to write is not carried into the next
        // (SwarmKit PR 2091). An orphaning is written again while its node has not come back,
        // here or elsewhere: the node left the DOWN table when its timer fired, so the table
        // cannot say; no session or registration here, not taken over again as UNKNOWN (another
        // manager wrote it alive), and DOWN in the store.
        if error != nil, isRunning {
            statuses.requeue(
                batch, orphaningIf: { isAway($0) && store.node($0)?.status.state == .down })
        }
        // A status the store dropped as overtaken brought no event, and one that failed is not
        // in the store: both are written again if the store shows another state.
        for case .nodeStatus(let id, _, _) in batch.writes {
            reconcile(id, stored: store.node)
        }
    }

    /// Writes this dispatcher's view of a node (of its shard, when sharded) again when the store
    /// shows the node in another state, unless a status of the node is already queued or a
    /// registration of it is in flight (its end checks again). `stored` reads the node's record,
    /// only once the rest said it may be needed. After a registration (`registered`), its address
    /// and description count too, and go out again with the READY.
    ///
    /// Other writers reach a dispatcher's node records in two ways. Sharded, a write from a
    /// manager that held the node before the shard changed can land after the new owner's, since
    /// a batch already taken when the change arrived is not pulled back. The store then drops the
    /// owner's write as overtaken, or takes the stale one over the owner's. The owner, which holds
    /// the session, has the last word. A manager that has not yet heard of the change answers
    /// too, until it does: the two alternate for as long as that takes, one write per batch each,
    /// and the owner's stands. Unsharded, a leader is fenced on the group's choice, but a leader
    /// whose view of the group stalled serves on while another manager is chosen and writes its
    /// nodes UNKNOWN (DOWN, given time): when the choice comes back to it before it heard of the
    /// change, nothing restarts its term. Its answers are fenced while the other leads, and land
    /// once the choice is its own again, so the records end agreeing with the manager that holds
    /// the sessions.
    private func reconcile(
        _ node: NodeID, stored: (NodeID) -> Node?, registered: PendingRegistration? = nil
    ) {
        guard isRunning, !statuses.queuesStatus(of: node),
            !liveness.isRegistering(node),
            let state = liveness(of: node), holds(node), let record = stored(node)
        else { return }
        var status = NodeStatus(state: state)
        var description: NodeDescription?
        switch state {
        case .ready:
            status.address = registered?.address ?? ""
            description = registered?.description
        case .unknown: status.message = Self.leadershipChangeMessage
        default: status.message = Self.expiryMessage
        }
        var written = record
        written.apply(status, description: description)
        // Without a registration only the state is this dispatcher's to insist on: the message of
        // a DOWN, say, depends on which deadline it missed.
        guard registered == nil ? record.status.state != state : written != record else { return }
        statuses.queueNodeStatus(node, status, description: description)
    }

    /// A sharded manager learns which nodes it holds from the table and what they are from the
    /// records, two watches that need not keep step, and other managers write the records too.
    /// A node it holds with no session and nothing tracked here, whose record now shows it READY,
    /// is taken over then, as at a shard change (UNKNOWN until it registers here, DOWN at the
    /// longer grace): its record arrived after the table did, or it was taken over as DOWN and
    /// the manager that held it before wrote it READY since (a registration it committed after
    /// the change). Without this the first stayed untracked, READY with no manager if it died,
    /// and the second was written DOWN over a live node. A record in any other state is no sign
    /// of life: a new node's record, created just before it registers, is UNKNOWN.
    private func adoptIfUntracked(_ node: Node, at now: BeaconInstant) {
        guard shard != nil, node.status.state == .ready, isAway(node.id),
            !liveness.isDown(node.id) || liveness.forgetInheritedDown(node.id)
        else { return }
        adopt([node], at: now)
    }

    /// A node this manager holds that is not here in any form it tracks: no session, no
    /// registration in flight, not awaited as UNKNOWN (it may be DOWN, or nothing at all).
    private func isAway(_ node: NodeID) -> Bool {
        holds(node) && sessions.slot(of: node) == nil && !liveness.isRegistering(node) && liveness.unknown(node) == nil
    }

    // MARK: Store events

    /// A change the store committed.
    package func handle(_ event: StoreEvent, at now: BeaconInstant) {
        guard isRunning else { return }
        switch event {
        case .nodeUpdated(let node):
            adoptIfUntracked(node, at: now)
            reconcile(node.id) { _ in node }
            if let slot = sessions.slot(of: node.id), let sink = sessions.sinks[slot],
                let registration = sessions[slot],
                let message = sessionMessage(for: registration, node: node, disconnect: false)
            {
                sink(.message(message))
            }
        case .clusterUpdated(let settings):
            cluster = settings
            broadcastSessionMessages()
        case .taskUpdated(let task):
            guard let node = task.nodeID, let slot = sessions.slot(of: node) else { return }
            feeds.taskUpdated(task, inSlot: slot, at: now)?.perform()
        case .taskDeleted(let task):
            guard let node = task.nodeID, let slot = sessions.slot(of: node) else { return }
            feeds.taskDeleted(task, inSlot: slot, at: now)
        }
    }

    // MARK: Assignments

    /// Opens the node's assignment stream: the first message (COMPLETE) goes to `sink` at once,
    /// INCREMENTAL ones as ``flushAssignments(at:)`` finds them due. A stream the node had open
    /// ends (normally) and is replaced: reopening is how a node asks for a COMPLETE set.
    ///
    /// `byteBudget` is the node's own limit on a message: the stream's messages are cut to the
    /// smaller of it and the configured budget, and an object too large for that is left out of
    /// this node's stream alone. Nil takes the configured budget.
    package func openAssignments(
        node: NodeID, session: SessionID, byteBudget: Int? = nil, at now: BeaconInstant,
        _ sink: @escaping AssignmentSink
    ) throws(DispatcherError) {
        try validate(node: node, session: session)
        let batching = try assignmentBatching(forNodeBudget: byteBudget)
        let slot = session.handle.index
        // Ended before the new set is built, so it ends even if the new one cannot be sent.
        feeds.end(slot, with: nil)?.perform()
        var assignments = NodeAssignments(store: store, configuration: batching)
        let messages: [AssignmentMessage]
        do {
            for task in store.tasks(on: node) { _ = try assignments.addOrUpdate(task, at: now) }
            messages = try assignments.flushIfDue(at: now)
        } catch {
            throw .invalidArgument("the node's assignments cannot be sent: \(error)")
        }
        feeds.deliver(feeds.open(slot, assignments: assignments, sending: messages, to: sink))
    }

    /// The batching of a stream whose node reads messages up to `budget` bytes.
    private func assignmentBatching(forNodeBudget budget: Int?) throws(DispatcherError)
        -> AssignmentBatcherConfiguration
    {
        let configured = configuration.assignmentBatching
        guard let budget, budget < configured.byteBudget else { return configured }
        guard budget >= AssignmentEncoder.minimumByteBudget else {
            throw .invalidArgument(
                "an assignment byte budget of \(budget) is below the smallest, \(AssignmentEncoder.minimumByteBudget) bytes"
            )
        }
        do {
            return try AssignmentBatcherConfiguration(
                debounce: configured.debounce, maximumChanges: configured.maximumChanges, byteBudget: budget)
        } catch {
            throw .invalidArgument("an assignment byte budget of \(budget) is refused: \(error)")
        }
    }

    /// Sends every assignment batch that is due.
    package func flushAssignments(at now: BeaconInstant) {
        feeds.deliver(feeds.flush(at: now))
    }

    /// When there is next something to do (a flush, an assignment batch, an UNKNOWN or orphan
    /// timer), for a shell that sleeps until then; nil when nothing is pending. Expiries are not
    /// included: the wheel's own thread reports them.
    package func nextWakeup(after now: BeaconInstant) -> BeaconInstant? {
        .earliest(.earliest(statuses.nextFlush(after: now), feeds.nextFlush(after: now)), liveness.nextDeadline)
    }

    private func wheelFailure(_ error: HeartbeatError) -> DispatcherError {
        if case .capacityExhausted = error { return .capacityExhausted(configuration.maximumNodes) }
        return .invalidArgument("heartbeat wheel refused the node: \(error)")
    }
}
