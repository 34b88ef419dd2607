/// A write the dispatcher asks its store to make. Writes arrive in batches
/// (``DispatcherStore/commit(_:)``), one per flush, last write wins per node and per task.
public enum DispatcherWrite: Sendable, Hashable {
    /// Set a node's status and, when given, its description. Skipped if the node is gone.
    case nodeStatus(NodeID, NodeStatus, description: NodeDescription?)
    /// Set a task's status, unless the task is gone or the new state is behind the stored one
    /// (tasks never move backwards). The same state with a new message is applied.
    case taskStatus(taskID: String, TaskStatus)
    /// Move the node's tasks in ASSIGNED…RUNNING to ORPHANED; others are left untouched.
    case orphanTasks(node: NodeID)
}

/// A change the store made, delivered to watchers in commit order.
public enum StoreEvent: Sendable, Hashable {
    case nodeUpdated(Node)
    /// A task was created or updated. A task that moved to another node, or to none, is first
    /// reported deleted (its last copy, naming the node it left), so that the node it left
    /// stops running it.
    case taskUpdated(DispatchedTask)
    case taskDeleted(DispatchedTask)
    case clusterUpdated(ClusterSettings)
}

/// Where nodes, tasks, their dependencies and the cluster settings live: SwarmKit's replicated
/// store, seen from the dispatcher.
///
/// Reads are local and synchronous (a replica's in-memory state); writes are batched and
/// asynchronous (a replicated store commits through consensus). Watchers receive every change in
/// commit order, on the committing thread; they must not write to the store from the callback.
/// ``InMemoryDispatcherStore`` is the embedded default.
public protocol DispatcherStore: AnyObject, Sendable {
    func node(_ id: NodeID) -> Node?
    func allNodes() -> [Node]
    func task(_ id: String) -> DispatchedTask?
    func tasks(on node: NodeID) -> [DispatchedTask]
    func dependency(_ kind: DependencyKind, id: String) -> TaskDependency?
    func clusterSettings() -> ClusterSettings
    /// Applies `writes` as one batch; returns once they are committed (durable and visible to
    /// reads). Throws ``DispatcherError/storeFailure(_:)`` when the batch was not committed
    /// whole: nothing of it, or, for a store that splits a batch too large for one transaction
    /// (`CoordinatedDispatcherStore`), the transactions before the one that failed. Each write
    /// stands on its own, so the dispatcher treats the batch as failed either way.
    func commit(_ writes: [DispatcherWrite]) async throws(DispatcherError)
    /// Calls `observer` with every change committed from now on, until the watch is cancelled.
    func watch(_ observer: @escaping @Sendable (StoreEvent) -> Void) -> StoreWatch
}

/// An active watch on a store; ``cancel()`` (or releasing it) ends it.
public final class StoreWatch: Sendable {
    private let onCancel: @Sendable () -> Void

    public init(onCancel: @escaping @Sendable () -> Void) {
        self.onCancel = onCancel
    }

    public func cancel() {
        onCancel()
    }

    deinit {
        onCancel()
    }
}
