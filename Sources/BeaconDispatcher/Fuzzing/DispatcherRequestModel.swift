import BeaconCore

/// The request fuzzer's model of a dispatcher: what each node's session and liveness are, what
/// the store holds and what the next flush will write, following the rules the dispatcher
/// documents (``DispatcherCore``, ``Dispatcher``) rather than its data structures.
///
/// Times are microseconds since the dispatcher's clock started. Deadlines drawn at random are
/// kept as the range the draw allows; the harness learns the moment of each expiry from the
/// dispatcher and checks it falls inside that range.
struct DispatcherRequestModel {
    /// The configuration in the units the model needs.
    struct Settings {
        var periodMicros: UInt64
        var jitterMicros: UInt64
        var grace: Double
        var unknownGrace: Double
        var rateWindowMicros: UInt64
        var rateCount: Int
        var batchLimit: Int
        var batchIntervalMicros: UInt64
        var orphanAfterMicros: UInt64
        var slotMicros: UInt64
    }

    enum Liveness: Equatable {
        /// No registration and no UNKNOWN grace: expired, DOWN, never known, or stopped.
        case absent
        /// Carried over from the previous term; must register before `latest`.
        case unknown(earliest: UInt64, latest: UInt64)
        case registered(SessionID, earliest: UInt64, latest: UInt64)
    }

    /// SwarmKit's registration limit: attempts in the window that started at `since`.
    struct RateLimit {
        var attempts: Int
        var since: UInt64?
    }

    struct Node {
        let id: NodeID
        var inStore: Bool
        var liveness = Liveness.absent
        /// Kept while the node is registered or UNKNOWN; a node with neither registers freely.
        var rateLimit: RateLimit?
        /// Every session issued to the node, newest last.
        var issued: [SessionID] = []
        var orphanDeadline: UInt64?
        /// The node's state and message in the store (nil when not in the store).
        var stored: NodeStatus?
    }

    struct Task {
        let id: String
        var owner: Int?
        var status: TaskStatus
    }

    static let leadershipMessage = "Node moved to \"unknown\" state due to leadership change in cluster"
    static let orphanMessage = "node has been down for too long"
    static let foreignTask = DispatcherError.permissionDenied("cannot update a task not assigned this node")

    let settings: Settings
    var nodes: [Node]
    var tasks: [Task]
    var running = false
    var now: UInt64 = 0
    var lastFlush: UInt64 = 0
    var pendingNodes: [Int: NodeStatus] = [:]
    var pendingTasks: [String: TaskStatus] = [:]
    var pendingOrphans: [Int] = []

    var pendingCount: Int { pendingNodes.count + pendingTasks.count + pendingOrphans.count }

    /// Parts of the store written since the harness last compared them with the model.
    struct StoreParts: OptionSet {
        let rawValue: UInt8
        static let nodes = StoreParts(rawValue: 1)
        static let tasks = StoreParts(rawValue: 2)
    }
    var unverified: StoreParts = [.nodes, .tasks]

    // MARK: Sessions

    func current(_ node: Int) -> SessionID? {
        if case .registered(let session, _, _) = nodes[node].liveness { return session }
        return nil
    }

    /// What a call from `node` with a session that is not its current one is refused with.
    func failure(_ node: Int) -> DispatcherError {
        guard running else { return .stopped }
        return nodes[node].liveness == .absent ? .nodeNotRegistered : .sessionInvalid
    }

    /// Nil when `session` is `node`'s current session and the dispatcher runs.
    func refusal(_ node: Int, _ session: SessionID) -> DispatcherError? {
        running && current(node) == session ? nil : failure(node)
    }

    /// The range of deadlines a draw with `grace` allows from now: `period ± jitter` times the grace.
    func deadlines(grace: Double) -> (earliest: UInt64, latest: UInt64) {
        func ttl(_ micros: UInt64) -> UInt64 { UInt64((Double(micros) * grace).rounded(.up)) }
        return (
            now + ttl(settings.periodMicros - settings.jitterMicros),
            now + ttl(settings.periodMicros + settings.jitterMicros)
        )
    }

    // MARK: Leadership

    /// A new term: every stored node not DOWN is UNKNOWN with the longer grace, a fresh rate
    /// limit and a queued UNKNOWN write; DOWN nodes restart their orphan timers.
    mutating func start() {
        running = true
        lastFlush = now
        for index in nodes.indices {
            nodes[index].liveness = .absent
            nodes[index].rateLimit = nil
            nodes[index].orphanDeadline = nil
            guard let stored = nodes[index].stored else { continue }
            if stored.state == .down {
                nodes[index].orphanDeadline = now + settings.orphanAfterMicros
            } else {
                let range = deadlines(grace: settings.unknownGrace)
                nodes[index].liveness = .unknown(earliest: range.earliest, latest: range.latest)
                nodes[index].rateLimit = RateLimit(attempts: 0, since: nil)
                pendingNodes[index] = NodeStatus(state: .unknown, message: Self.leadershipMessage)
            }
        }
    }

    /// The term ends: queued writes are committed, every session and timer is dropped.
    mutating func stop() {
        applyFlush()
        running = false
        for index in nodes.indices {
            nodes[index].liveness = .absent
            nodes[index].rateLimit = nil
            nodes[index].orphanDeadline = nil
        }
    }

    // MARK: Registration

    /// The checks a registration passes or fails before its READY write is queued. Returns
    /// whether `resume` is resumed (valid now, so the rate limit is skipped).
    mutating func beginRegistration(_ node: Int, resume: SessionID?) -> Result<Bool, DispatcherError> {
        guard running else { return .failure(.stopped) }
        let resumed = resume != nil && current(node) == resume
        if !resumed, var limit = nodes[node].rateLimit {
            if let since = limit.since, now - since <= settings.rateWindowMicros, settings.rateWindowMicros > 0 {
                limit.attempts += 1
            } else {
                limit.attempts = 1
            }
            guard limit.attempts <= settings.rateCount else {
                return .failure(
                    .rateLimited(
                        node: nodes[node].id.rawValue, attempts: settings.rateCount,
                        window: .microseconds(Int64(settings.rateWindowMicros))))
            }
            limit.since = now
            nodes[node].rateLimit = limit
        }
        guard nodes[node].inStore else { return .failure(.nodeNotFound(nodes[node].id.rawValue)) }
        nodes[node].orphanDeadline = nil
        pendingNodes[node] = NodeStatus(state: .ready)
        return .success(resumed)
    }

    /// The registration's write committed and `session` was issued: a new session replaces the
    /// node's old one with a fresh deadline and keeps its rate-limit count.
    mutating func issue(_ node: Int, _ session: SessionID) {
        switch nodes[node].rateLimit {
        case .some(let limit): nodes[node].rateLimit = RateLimit(attempts: limit.attempts, since: limit.since ?? now)
        case nil: nodes[node].rateLimit = RateLimit(attempts: 0, since: now)
        }
        let range = deadlines(grace: settings.grace)
        nodes[node].liveness = .registered(session, earliest: range.earliest, latest: range.latest)
        nodes[node].issued.append(session)
    }

    // MARK: Heartbeats and expiry

    /// An accepted heartbeat answered with `periodMicros`: the deadline moves to now plus that
    /// period times the grace, unless it is already later.
    mutating func beat(_ node: Int, periodMicros: UInt64) {
        guard case .registered(let session, let earliest, let latest) = nodes[node].liveness else { return }
        let deadline = now + UInt64((Double(periodMicros) * settings.grace).rounded(.up))
        nodes[node].liveness = .registered(session, earliest: max(earliest, deadline), latest: max(latest, deadline))
    }

    /// The dispatcher reported `node` DOWN now; nil when that agrees with the model.
    mutating func expired(_ node: Int) -> String? {
        let message: String
        switch nodes[node].liveness {
        case .absent:
            return "\(nodes[node].id) was reported DOWN while it held no registration"
        case .unknown(let earliest, _):
            if now < earliest {
                return "UNKNOWN \(nodes[node].id) went DOWN at \(now) µs, before its earliest deadline \(earliest) µs"
            }
            message = DispatcherCore<ManualClock>.unknownExpiryMessage
        case .registered(_, let earliest, _):
            if now < earliest { return "\(nodes[node].id) expired at \(now) µs, before its deadline \(earliest) µs" }
            message = DispatcherCore<ManualClock>.expiryMessage
        }
        nodes[node].liveness = .absent
        nodes[node].rateLimit = nil
        nodes[node].orphanDeadline = now + settings.orphanAfterMicros
        pendingNodes[node] = NodeStatus(state: .down, message: message)
        return nil
    }

    /// A node whose latest possible deadline has passed (by a wheel slot, for registered nodes)
    /// but which was not reported DOWN.
    func missedExpiry() -> String? {
        for node in nodes {
            switch node.liveness {
            case .absent: continue
            case .unknown(_, let latest) where latest <= now:
                return "UNKNOWN \(node.id) was not marked DOWN by \(now) µs (deadline at most \(latest) µs)"
            case .registered(_, _, let latest) where latest + settings.slotMicros <= now:
                return "\(node.id) did not expire by \(now) µs (deadline at most \(latest) µs)"
            default: continue
            }
        }
        return nil
    }

    /// Nodes DOWN for `orphanAfter` have their active tasks orphaned at the next flush.
    mutating func fireOrphanTimers() {
        for index in nodes.indices {
            guard let deadline = nodes[index].orphanDeadline, deadline <= now else { continue }
            nodes[index].orphanDeadline = nil
            pendingOrphans.append(index)
        }
    }

    // MARK: Task status

    /// What `updateTaskStatus` must do: refuse (nothing queued) or queue these, in order.
    func statusOutcome(_ node: Int, _ session: SessionID, _ updates: [TaskStatusUpdate]) -> Result<
        [(String, TaskStatus)], DispatcherError
    > {
        if let refusal = refusal(node, session) { return .failure(refusal) }
        var accepted: [(String, TaskStatus)] = []
        for update in updates {
            guard let status = update.status, let task = tasks.first(where: { $0.id == update.taskID }) else {
                continue
            }
            guard task.owner == node else { return .failure(Self.foreignTask) }
            accepted.append((update.taskID, status))
        }
        return .success(accepted)
    }

    // MARK: Flushing

    /// A flush committed: node writes, then status writes (never moving a task backwards), then
    /// orphaned tasks of nodes DOWN too long.
    mutating func applyFlush() {
        if !pendingNodes.isEmpty { unverified.insert(.nodes) }
        if !pendingTasks.isEmpty || !pendingOrphans.isEmpty { unverified.insert(.tasks) }
        for (index, status) in pendingNodes {
            nodes[index].stored?.state = status.state
            nodes[index].stored?.message = status.message
        }
        for (id, status) in pendingTasks {
            guard let position = tasks.firstIndex(where: { $0.id == id }), tasks[position].status.state <= status.state
            else { continue }
            tasks[position].status = status
        }
        for node in pendingOrphans {
            for position in tasks.indices
            where tasks[position].owner == node && tasks[position].status.state.isActiveOnNode {
                tasks[position].status = TaskStatus(state: .orphaned, message: Self.orphanMessage)
            }
        }
        pendingNodes = [:]
        pendingTasks = [:]
        pendingOrphans = []
    }

    /// Whether the dispatcher must have flushed by now.
    var isFlushDue: Bool {
        pendingCount > 0 && (pendingCount >= settings.batchLimit || now - lastFlush >= settings.batchIntervalMicros)
    }
}
