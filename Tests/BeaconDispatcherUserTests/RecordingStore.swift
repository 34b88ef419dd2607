import BeaconDispatcher

/// The in-memory store, also handing every committed batch of writes to the test, in commit
/// order: how a test sees that writes arrive in batches, and awaits a write instead of polling.
final class RecordingStore: DispatcherStoreWrapper {
    let base = InMemoryDispatcherStore()
    let batches: AsyncStream<[DispatcherWrite]>
    private let continuation: AsyncStream<[DispatcherWrite]>.Continuation

    init() {
        (batches, continuation) = AsyncStream.makeStream()
    }

    func commit(_ writes: [DispatcherWrite]) async throws(DispatcherError) {
        base.apply(writes)
        continuation.yield(writes)
    }
}

extension AsyncStream<[DispatcherWrite]>.Iterator {
    /// The next committed batch that sets `node`'s state to `state`, skipping earlier batches.
    mutating func nextBatch(setting node: NodeID, to state: NodeState) async -> [DispatcherWrite]? {
        while let batch = await next() {
            if batch.contains(where: { $0.nodeState(of: node) == state }) { return batch }
        }
        return nil
    }
}

extension DispatcherWrite {
    /// The state this write gives `node`, nil for any other write.
    func nodeState(of node: NodeID) -> NodeState? {
        guard case .nodeStatus(node, let status, _) = self else { return nil }
        return status.state
    }

    /// The message of the status this write gives `node`.
    func nodeMessage(of node: NodeID) -> String? {
        guard case .nodeStatus(node, let status, _) = self else { return nil }
        return status.message
    }

    /// The task this write reports a status for, and that status's state.
    var taskStatus: (id: String, state: TaskState)? {
        guard case .taskStatus(let id, let status) = self else { return nil }
        return (id, status.state)
    }
}
