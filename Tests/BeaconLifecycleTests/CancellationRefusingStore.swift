import BeaconDispatcher

/// An in-memory dispatcher store that, like a network store whose client gives up on a cancelled
/// request, refuses to commit from a cancelled task: a dispatcher whose last commit ran in its
/// cancelled run would lose its queued writes here.
final class CancellationRefusingStore: DispatcherStoreWrapper {
    let base = InMemoryDispatcherStore()

    func commit(_ writes: [DispatcherWrite]) async throws(DispatcherError) {
        guard !Task.isCancelled else { throw .storeFailure("the committing task was cancelled") }
        base.apply(writes)
    }

    /// A node an earlier leader left READY: a dispatcher that starts over this store queues its
    /// UNKNOWN write and commits it with the first flush, one batch interval after the start.
    func carriedOverNode(_ name: String) throws -> NodeID {
        let node = try NodeID(name)
        base.createNode(node)
        base.setNodeStatus(node, NodeStatus(state: .ready))
        return node
    }
}
