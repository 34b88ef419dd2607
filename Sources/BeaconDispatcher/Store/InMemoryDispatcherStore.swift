import BeaconCore
import BeaconPrimitives

/// The embedded default store: everything in this process's memory, commits applied at once.
///
/// It is also the orchestrator's side of the API: create nodes before they register, put and
/// delete tasks and their secrets and configs, change the cluster settings. Every write bumps a
/// store-wide version and is delivered to watchers in order.
public final class InMemoryDispatcherStore: DispatcherStore {
    private struct DependencyKey: Hashable {
        var kind: DependencyKind
        var id: String
    }

    private struct State {
        var version: UInt64 = 0
        var nodes: [NodeID: Node] = [:]
        var tasks: [String: DispatchedTask] = [:]
        var tasksByNode: [NodeID: Set<String>] = [:]
        var dependencies: [DependencyKey: TaskDependency] = [:]
        var cluster = ClusterSettings()

        mutating func nextVersion() -> UInt64 {
            version += 1
            return version
        }
    }

    private let state = PosixMutex(State())
    private let watchers = StoreWatchers()

    public init() {}

    // MARK: Reads

    public func node(_ id: NodeID) -> Node? {
        state.withLock { $0.nodes[id] }
    }

    public func allNodes() -> [Node] {
        state.withLock { Array($0.nodes.values) }
    }

    public func task(_ id: String) -> DispatchedTask? {
        state.withLock { $0.tasks[id] }
    }

    public func tasks(on node: NodeID) -> [DispatchedTask] {
        state.withLock { state in
            (state.tasksByNode[node] ?? []).compactMap { state.tasks[$0] }
        }
    }

    public func dependency(_ kind: DependencyKind, id: String) -> TaskDependency? {
        state.withLock { $0.dependencies[DependencyKey(kind: kind, id: id)] }
    }

    public func clusterSettings() -> ClusterSettings {
        state.withLock { $0.cluster }
    }

    /// How many nodes the store holds.
    public var nodeCount: Int { state.withLock { $0.nodes.count } }

    // MARK: The dispatcher's writes

    public func commit(_ writes: [DispatcherWrite]) async throws(DispatcherError) {
        apply(writes)
    }

    /// ``commit(_:)`` without suspending: the in-memory store commits at once.
    public func apply(_ writes: [DispatcherWrite]) {
        mutate { state in
            for write in writes {
                switch write {
                case .nodeStatus(let id, let status, let description):
                    guard var node = state.nodes[id] else { continue }
                    node.apply(status, description: description)
                    node.version = state.nextVersion()
                    state.nodes[id] = node
                    watchers.enqueue(.nodeUpdated(node))
                case .taskStatus(let id, let status):
                    guard var task = state.tasks[id], task.apply(status) else { continue }
                    task.version = state.nextVersion()
                    state.tasks[id] = task
                    watchers.enqueue(.taskUpdated(task))
                case .orphanTasks(let node):
                    for id in state.tasksByNode[node] ?? [] {
                        guard var task = state.tasks[id], task.orphan() else { continue }
                        task.version = state.nextVersion()
                        state.tasks[id] = task
                        watchers.enqueue(.taskUpdated(task))
                    }
                }
            }
        }
    }

    // MARK: The orchestrator's writes

    /// Creates a node, as joining the cluster does; it starts UNKNOWN until it registers.
    /// Returns false, changing nothing, if the node exists.
    @discardableResult
    public func createNode(_ id: NodeID, description: NodeDescription? = nil) -> Bool {
        mutate { state in
            guard state.nodes[id] == nil else { return false }
            let node = Node(id: id, description: description, version: state.nextVersion())
            state.nodes[id] = node
            watchers.enqueue(.nodeUpdated(node))
            return true
        }
    }

    /// Creates many nodes in one write, skipping ones that exist; returns how many were created.
    @discardableResult
    public func createNodes(_ ids: some Sequence<NodeID>) -> Int {
        mutate { state in
            var created = 0
            for id in ids where state.nodes[id] == nil {
                let node = Node(id: id, version: state.nextVersion())
                state.nodes[id] = node
                watchers.enqueue(.nodeUpdated(node))
                created += 1
            }
            return created
        }
    }

    /// Sets a node's state directly (as an earlier leader's writes would have left it).
    public func setNodeStatus(_ id: NodeID, _ status: NodeStatus) {
        apply([.nodeStatus(id, status, description: nil)])
    }

    /// Creates or replaces a task; returns it with its new version.
    @discardableResult
    public func putTask(_ task: DispatchedTask) -> DispatchedTask {
        mutate { state in
            var stored = task
            stored.version = state.nextVersion()
            if let previous = state.tasks[task.id], let oldNode = previous.nodeID, oldNode != task.nodeID {
                state.tasksByNode[oldNode]?.remove(task.id)
                watchers.enqueue(.taskDeleted(previous))
            }
            if let node = task.nodeID { state.tasksByNode[node, default: []].insert(task.id) }
            state.tasks[task.id] = stored
            watchers.enqueue(.taskUpdated(stored))
            return stored
        }
    }

    /// Deletes a task; returns false if there was none.
    @discardableResult
    public func deleteTask(_ id: String) -> Bool {
        mutate { state in
            guard let task = state.tasks.removeValue(forKey: id) else { return false }
            if let node = task.nodeID { state.tasksByNode[node]?.remove(id) }
            watchers.enqueue(.taskDeleted(task))
            return true
        }
    }

    /// Creates or replaces a secret or config. Dispatchers do not resend it to nodes that hold it
    /// (SwarmKit treats secrets and configs as immutable once sent).
    @discardableResult
    public func putDependency(_ dependency: TaskDependency) -> TaskDependency {
        mutate { state in
            var stored = dependency
            stored.version = state.nextVersion()
            state.dependencies[DependencyKey(kind: dependency.kind, id: dependency.id)] = stored
            return stored
        }
    }

    public func deleteDependency(_ kind: DependencyKind, id: String) {
        mutate { state in
            _ = state.dependencies.removeValue(forKey: DependencyKey(kind: kind, id: id))
        }
    }

    /// Replaces the cluster settings; every session receives a new message.
    public func updateCluster(_ settings: ClusterSettings) {
        mutate { state in
            state.cluster = settings
            watchers.enqueue(.clusterUpdated(settings))
        }
    }

    // MARK: Watching

    public func watch(_ observer: @escaping @Sendable (StoreEvent) -> Void) -> StoreWatch {
        watchers.watch(observer)
    }

    /// Runs a change under the lock (its events queued in commit order), then delivers them.
    private func mutate<Result>(_ body: (inout State) -> Result) -> Result {
        let result = state.withLock { body(&$0) }
        watchers.deliverPending()
        return result
    }
}
