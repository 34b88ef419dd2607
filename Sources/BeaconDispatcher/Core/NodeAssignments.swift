import BeaconCore

/// One node's assignment stream: SwarmKit's rules for what reaches a node, on top of the core's
/// batcher.
///
/// - Tasks below ASSIGNED are never sent.
/// - A task the node holds is re-sent when anything but its status changed (desired state, spec,
///   dependencies), and on any write while it is at ASSIGNED or below; a status-only change
///   above ASSIGNED is the node's own report coming back and is not sent.
/// - Secrets and configs are reference-counted: sent with the first task in ASSIGNED…RUNNING that
///   needs them, removed when the last such task goes (finishes past RUNNING or is deleted).
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

    init(store: any DispatcherStore, configuration: AssignmentBatcherConfiguration) {
        self.store = store
        batcher = AssignmentBatcher(configuration: configuration)
    }

    /// A task of this node was created or written. Returns true when the node must hear of it.
    mutating func addOrUpdate(_ task: DispatchedTask, at now: BeaconInstant) throws(TaskDiffError) -> Bool {
        guard task.status.state >= .assigned else { return false }
        if let old = tasks[task.id] {
            if old.equalsIgnoringStatus(task), task.status.state > .assigned {
                tasks[task.id] = task
                return task.status.state > .running ? release(dependenciesOf: task, at: now) : false
            }
        } else if task.status.state <= .running {
            try add(dependenciesOf: task, at: now)
        }
        tasks[task.id] = task
        return try batcher.upsert(
            key(for: ObjectRef(kind: .task, id: task.id)), version: task.version,
            payload: AssignedObject.task(task).encoded(), at: now)
    }

    /// A task of this node was deleted. Returns true when the node must hear of it.
    mutating func remove(_ task: DispatchedTask, at now: BeaconInstant) -> Bool {
        guard let held = tasks.removeValue(forKey: task.id) else { return false }
        let ref = ObjectRef(kind: .task, id: task.id)
        var changed = false
        if let key = keys.removeValue(forKey: ref) { changed = batcher.remove(key, at: now) }
        return release(dependenciesOf: held, at: now) || changed
    }

    private static func dependencies(of task: DispatchedTask) -> [ObjectRef] {
        task.secrets.map { ObjectRef(kind: .secret, id: $0) } + task.configs.map { ObjectRef(kind: .config, id: $0) }
    }

    private mutating func add(dependenciesOf task: DispatchedTask, at now: BeaconInstant) throws(TaskDiffError) {
        for ref in Self.dependencies(of: task) {
            if users[ref, default: []].isEmpty,
                let dependency = store.dependency(ref.kind == .secret ? .secret : .config, id: ref.id)
            {
                _ = try batcher.upsert(
                    key(for: ref), version: dependency.version,
                    payload: AssignedObject.dependency(dependency).encoded(),
                    at: now)
            }
            users[ref, default: []].insert(task.id)
        }
    }

    /// Drops the task's claims; removes each dependency no other task uses. A dependency that was
    /// never sent (missing from the store) produces no removal, unlike SwarmKit.
    private mutating func release(dependenciesOf task: DispatchedTask, at now: BeaconInstant) -> Bool {
        var changed = false
        for ref in Self.dependencies(of: task) {
            guard var holders = users[ref], holders.remove(task.id) != nil else { continue }
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
