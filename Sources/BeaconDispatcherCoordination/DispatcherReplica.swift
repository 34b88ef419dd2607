import BeaconCoordination
import BeaconDispatcher

/// A dispatcher store's records as of a store revision: what the dispatcher reads, locally and
/// synchronously, kept current by a watch. A pure value: the shell feeds it the store's reads and
/// watch batches and sends the events it returns to the store's watchers, and asks it to turn
/// the dispatcher's writes into conditional puts.
struct DispatcherReplica {
    /// A key the replica holds: its stored text and the revision it was last written at, which a
    /// write to it is conditioned on.
    struct Held: Equatable {
        var value: String
        var modRevision: Int64
    }

    /// One record of a planned commit: the transaction writes `value` only if the key is still
    /// at `expectedRevision`, so a change the replica has not seen yet is never overwritten. A
    /// nil `value` means the replica already holds the record as the writes leave it: the
    /// transaction only checks the revision, since the replica may lag a change another writer
    /// made, and skipping the write on that stale view would lose it.
    struct PlannedPut: Equatable {
        var key: String
        var value: String?
        var expectedRevision: Int64
    }

    private struct DependencyKey: Hashable {
        var kind: DependencyKind
        var id: String
    }

    let keys: DispatcherStoreKeys
    /// Every change up to this revision is in the replica.
    private(set) var revision: Int64 = 0
    private(set) var held: [String: Held] = [:]
    private(set) var nodes: [NodeID: Node] = [:]
    private(set) var tasks: [String: DispatchedTask] = [:]
    private(set) var tasksByNode: [NodeID: Set<String>] = [:]
    private var dependencies: [DependencyKey: TaskDependency] = [:]
    private(set) var cluster = ClusterSettings()
    /// Keys of the dispatcher's layout whose value is not a record of their kind (written by
    /// something else); the replica treats them as absent.
    private(set) var unreadableKeys: Set<String> = []

    init(keys: DispatcherStoreKeys) {
        self.keys = keys
    }

    func dependency(_ kind: DependencyKind, id: String) -> TaskDependency? {
        dependencies[DependencyKey(kind: kind, id: id)]
    }

    // MARK: Following the store

    /// Applies a watch batch, in order; returns the events for the store's watchers. Changes the
    /// replica already holds (at or below the revision it had reached, or not newer than the
    /// key's revision) are skipped, so a batch delivered twice, or late by a watch that was
    /// replaced, changes nothing: a put delivered again after its key's delete does not bring
    /// the key back.
    mutating func apply(_ changes: [StoreChange]) -> [StoreEvent] {
        var events: [StoreEvent] = []
        // Compared with the revision before the batch, not as it moves through it: the changes
        // of one transaction share a revision.
        let appliedThrough = revision
        for change in changes {
            defer { revision = max(revision, change.revision) }
            guard change.revision > appliedThrough else { continue }
            switch change {
            case .put(let value):
                guard value.modRevision > held[value.key]?.modRevision ?? 0 else { continue }
                store(value, into: &events)
            case .delete(let key, let revision):
                guard let known = held[key], revision > known.modRevision else { continue }
                remove(key, into: &events)
            }
        }
        return events
    }

    /// Brings the replica to a full read of the prefix: the events turn what the watchers saw
    /// into the read's content, as if they had watched every change. A read no newer than the
    /// replica changes nothing.
    mutating func reset(to snapshot: StoreSnapshot) -> [StoreEvent] {
        guard snapshot.revision > revision else { return [] }
        var events: [StoreEvent] = []
        var present: Set<String> = []
        for value in snapshot.values where keys.record(of: value.key) != nil {
            present.insert(value.key)
            if held[value.key]?.modRevision != value.modRevision { store(value, into: &events) }
        }
        for key in held.keys where !present.contains(key) { remove(key, into: &events) }
        revision = snapshot.revision
        return events
    }

    private mutating func store(_ value: StoredValue, into events: inout [StoreEvent]) {
        guard let record = keys.record(of: value.key) else { return }
        let version = UInt64(value.modRevision)
        held[value.key] = Held(value: value.value, modRevision: value.modRevision)
        unreadableKeys.remove(value.key)
        switch record {
        case .node(let id):
            guard let node = DispatcherRecordCodec.node(value.value, version: version), node.id.rawValue == id else {
                return unreadable(value.key, into: &events)
            }
            nodes[node.id] = node
            events.append(.nodeUpdated(node))
        case .task(let id):
            guard let task = DispatcherRecordCodec.task(value.value, version: version), task.id == id else {
                return unreadable(value.key, into: &events)
            }
            if let previous = tasks[id], let previousNode = previous.nodeID, previousNode != task.nodeID {
                tasksByNode[previousNode]?.remove(id)
                events.append(.taskDeleted(previous))
            }
            if let node = task.nodeID { tasksByNode[node, default: []].insert(id) }
            tasks[id] = task
            events.append(.taskUpdated(task))
        case .dependency(let kind, let id):
            guard let dependency = DispatcherRecordCodec.dependency(value.value, version: version),
                dependency.kind == kind, dependency.id == id
            else { return unreadable(value.key, into: &events) }
            dependencies[DependencyKey(kind: kind, id: id)] = dependency
        case .cluster:
            guard let settings = DispatcherRecordCodec.cluster(value.value) else {
                return unreadable(value.key, into: &events)
            }
            cluster = settings
            events.append(.clusterUpdated(settings))
        }
    }

    /// A value the layout cannot read: the record it replaced is gone, and the key is reported.
    private mutating func unreadable(_ key: String, into events: inout [StoreEvent]) {
        let kept = held[key]
        drop(key, into: &events)
        held[key] = kept
        unreadableKeys.insert(key)
    }

    private mutating func remove(_ key: String, into events: inout [StoreEvent]) {
        drop(key, into: &events)
        held[key] = nil
        unreadableKeys.remove(key)
    }

    private mutating func drop(_ key: String, into events: inout [StoreEvent]) {
        switch keys.record(of: key) {
        case .node(let id)?:
            if let id = try? NodeID(id) { nodes[id] = nil }
        case .task(let id)?:
            guard let task = tasks.removeValue(forKey: id) else { return }
            if let node = task.nodeID { tasksByNode[node]?.remove(id) }
            events.append(.taskDeleted(task))
        case .dependency(let kind, let id)?:
            dependencies[DependencyKey(kind: kind, id: id)] = nil
        case .cluster?:
            guard cluster != ClusterSettings() else { return }
            cluster = ClusterSettings()
            events.append(.clusterUpdated(cluster))
        case nil:
            return
        }
    }

    // MARK: Writing

    /// The revision of the record of each node `writes` sets a status of, as the replica holds
    /// it (0 where it holds none): the state the writer decided against.
    func nodeRevisions(setBy writes: [DispatcherWrite]) -> [NodeID: Int64] {
        var revisions: [NodeID: Int64] = [:]
        for case .nodeStatus(let id, _, _) in writes { revisions[id] = nodeRevision(id) }
        return revisions
    }

    private func nodeRevision(_ id: NodeID) -> Int64 {
        held[keys.key(.node(id.rawValue))]?.modRevision ?? 0
    }

    /// `writes` without the node statuses whose record another writer wrote since the replica
    /// showed `decidedAgainst`: a status write is a step from the record its writer saw, and a
    /// newer decision by someone else (a node's new owner writing READY or UNKNOWN) is not undone
    /// by an older one planned again on top of it. Revisions, not statuses, tell: a record
    /// written UNKNOWN and then READY again by its new owner reads as it did, and an older DOWN
    /// planned on it would bury the owner's READY. Task statuses and orphanings are kept: the
    /// task rules already refuse a step backwards.
    func withoutOvertaken(_ writes: [DispatcherWrite], decidedAgainst: [NodeID: Int64]) -> [DispatcherWrite] {
        writes.filter { write in
            guard case .nodeStatus(let id, _, _) = write else { return true }
            return nodeRevision(id) == decidedAgainst[id]
        }
    }

    /// The puts that apply `writes` to the records as the replica holds them, with
    /// the rules every store of the package shares (`Node.apply`, `DispatchedTask.apply`, `orphan`): a
    /// write to a node or task the replica does not hold
    /// is skipped, a task never moves backwards, the last write to a record wins. A record whose
    /// new text equals its stored text is not written, only checked.
    func plan(_ writes: [DispatcherWrite]) -> [PlannedPut] {
        var changedNodes: [NodeID: Node] = [:]
        var changedTasks: [String: DispatchedTask] = [:]
        var order: [String] = []
        for write in writes {
            switch write {
            case .nodeStatus(let id, let status, let description):
                guard var node = changedNodes[id] ?? nodes[id] else { continue }
                node.apply(status, description: description)
                if changedNodes.updateValue(node, forKey: id) == nil { order.append(keys.key(.node(id.rawValue))) }
            case .taskStatus(let id, let status):
                guard var task = changedTasks[id] ?? tasks[id], task.apply(status) else { continue }
                if changedTasks.updateValue(task, forKey: id) == nil { order.append(keys.key(.task(id))) }
            case .orphanTasks(let node):
                for id in (tasksByNode[node] ?? []).sorted() {
                    guard var task = changedTasks[id] ?? tasks[id], task.orphan() else { continue }
                    if changedTasks.updateValue(task, forKey: id) == nil { order.append(keys.key(.task(id))) }
                }
            }
        }
        var values: [String: String] = [:]
        for node in changedNodes.values {
            values[keys.key(.node(node.id.rawValue))] = DispatcherRecordCodec.encode(node)
        }
        for task in changedTasks.values { values[keys.key(.task(task.id))] = DispatcherRecordCodec.encode(task) }
        return order.compactMap { key in
            guard let value = values[key], let current = held[key] else { return nil }
            return PlannedPut(
                key: key, value: current.value == value ? nil : value, expectedRevision: current.modRevision)
        }
    }
}
