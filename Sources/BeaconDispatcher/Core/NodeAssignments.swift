import BeaconCore

/// One node's assignment stream: SwarmKit's rules for what reaches a node, on top of the core's
/// batcher.
///
/// - Tasks below ASSIGNED are never sent.
/// - A task the node holds is re-sent when anything but its status changed (desired state, spec,
///   dependencies), and on any write while it is at ASSIGNED or below; a status-only change
///   above ASSIGNED is the node's own report coming back and is not sent.
/// - Secrets and configs are reference-counted: sent with the first task in ASSIGNED…RUNNING that
///   needs them, removed when the last such task goes (finishes past RUNNING, is deleted, or is
///   rewritten without them).
///   Later edits of a secret or config are not sent (SwarmKit treats them as immutable).
///
/// String ids become the batcher's integer keys here, per stream: the payload carries the
/// object itself, so the node never needs the mapping.
struct NodeAssignments {
    private struct ObjectRef: Hashable {
        var kind: AssignmentKind
        var id: String
    }

    private(set) var batcher: AssignmentBatcher<BeaconInstant>
    private let store: any DispatcherStore
    /// The tasks the node holds, as last seen.
    private var tasks: [String: DispatchedTask] = [:]
    /// Which tasks use each secret or config.
    private var users: [ObjectRef: Set<String>] = [:]
    private var keys: [ObjectRef: AssignmentKey] = [:]
    private var nextID: UInt64 = 1
    /// Writes of tasks and dependencies left out because their payload exceeds what one message
    /// can carry.
    private(set) var oversizedObjects = 0

    init(store: any DispatcherStore, configuration: AssignmentBatcherConfiguration) {
        self.store = store
        batcher = AssignmentBatcher(configuration: configuration)
    }

    /// A task of this node was created or written. Returns true when the node must hear of it.
    mutating func addOrUpdate(_ task: DispatchedTask, at now: BeaconInstant) throws(TaskDiffError) -> Bool {
        guard task.status.state >= .assigned else { return false }
        let old = tasks[task.id]
        // A status-only change above ASSIGNED is the node's own report coming back: not sent, so
        // never too large, and not encoded.
        let sent = old.map { !$0.equalsIgnoringStatus(task) } ?? true || task.status.state <= .assigned
        // One task too large for any message is left out, at the version the node last got (or
        // not at all): the rest of the node's assignments, its stop orders included, still go out
        // and the stream can be opened again. Refusing the whole stream over it cut the node off
        // from every assignment until the task was edited (SwarmKit's #2733, in another form).
        let payload = sent ? AssignedObject.task(task).encoded() : []
        // What the task claims follows its every write: a held task whose secrets or configs
        // changed sends the new ones and lets go of the old, and one that finishes lets go of its
        // own, whatever else changed with it.
        let claimed = old.map(Self.claims(of:)) ?? []
        let claims = Self.claims(of: task)
        guard !sent || fits(payload) else {
            // Left out, at the version the node last got; but a task that left ASSIGNED…RUNNING
            // lets go of its secrets and configs all the same (its end is the node's own
            // report): held for a version too large to send, they stayed on the node.
            guard var ended = old, claims.isEmpty, !claimed.isEmpty else { return false }
            ended.status = task.status
            tasks[task.id] = ended
            return release(claimed, by: task.id, at: now)
        }
        var changed = release(claimed.subtracting(claims), by: task.id, at: now)
        if try add(claims.subtracting(claimed), for: task.id, at: now) { changed = true }
        tasks[task.id] = task
        guard sent else { return changed }
        return try batcher.upsert(
            key(for: ObjectRef(kind: .task, id: task.id)), version: task.version, payload: payload, at: now)
            || changed
    }

    /// Whether `payload` fits in a message; counts it in ``oversizedObjects`` when not.
    private mutating func fits(_ payload: [UInt8]) -> Bool {
        guard payload.count > batcher.maximumPayloadBytes else { return true }
        oversizedObjects += 1
        return false
    }

    /// A task of this node was deleted. Returns true when the node must hear of it.
    mutating func remove(_ task: DispatchedTask, at now: BeaconInstant) -> Bool {
        guard let held = tasks.removeValue(forKey: task.id) else { return false }
        let ref = ObjectRef(kind: .task, id: task.id)
        var changed = false
        if let key = keys.removeValue(forKey: ref) { changed = batcher.remove(key, at: now) }
        return release(Self.claims(of: held), by: task.id, at: now) || changed
    }

    /// The secrets and configs a task holds on the node: all it names while it is in
    /// ASSIGNED…RUNNING, none before or after.
    private static func claims(of task: DispatchedTask) -> Set<ObjectRef> {
        guard (.assigned ... .running).contains(task.status.state) else { return [] }
        return Set(
            task.secrets.map { ObjectRef(kind: .secret, id: $0) }
                + task.configs.map { ObjectRef(kind: .config, id: $0) })
    }

    /// Adds `task`'s claims on `refs`; sends each one no other task held. Returns true if any
    /// was sent.
    private mutating func add(_ refs: Set<ObjectRef>, for task: String, at now: BeaconInstant) throws(TaskDiffError)
        -> Bool
    {
        var changed = false
        for ref in refs {
            // Looked up while it has not been sent, not only by the first task that needs it: one
            // missing then and stored since goes with the next task that needs it.
            if keys[ref] == nil,
                let dependency = store.dependency(ref.kind == .secret ? .secret : .config, id: ref.id)
            {
                // One too large to send is left out, as a missing one is.
                let payload = AssignedObject.dependency(dependency).encoded()
                if fits(payload),
                    try batcher.upsert(key(for: ref), version: dependency.version, payload: payload, at: now)
                {
                    changed = true
                }
            }
            users[ref, default: []].insert(task)
        }
        return changed
    }

    /// Drops `task`'s claims on `refs`; removes each one no other task uses. A dependency that
    /// was never sent (missing from the store) produces no removal, unlike SwarmKit.
    private mutating func release(_ refs: Set<ObjectRef>, by task: String, at now: BeaconInstant) -> Bool {
        var changed = false
        for ref in refs {
            guard var holders = users[ref], holders.remove(task) != nil else { continue }
            if holders.isEmpty {
                users.removeValue(forKey: ref)
                if let key = keys.removeValue(forKey: ref), batcher.remove(key, at: now) { changed = true }
            } else {
                users[ref] = holders
            }
        }
        return changed
    }

    private mutating func key(for ref: ObjectRef) -> AssignmentKey {
        if let key = keys[ref] { return key }
        // 2^56 ids per stream: a stream would need centuries of churn to run out.
        let key = try! AssignmentKey(ref.kind, id: nextID)
        nextID += 1
        keys[ref] = key
        return key
    }

    mutating func flushIfDue(at now: BeaconInstant) throws(TaskDiffError) -> [AssignmentMessage] {
        try batcher.flushIfDue(at: now)
    }
}
