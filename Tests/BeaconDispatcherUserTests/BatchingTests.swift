import BeaconCore
import BeaconDispatcher
import Testing

/// SwarmKit's status batching and assignment debounce (seed spec A16 6–7) against the public
/// API, in virtual time.
@Suite struct BatchingTests {
    private let node = nodeID("node-a")

    private func leader(_ configure: (inout DispatcherConfiguration) throws -> Void) async throws -> Leader {
        var configuration = exactConfiguration()
        try configure(&configuration)
        let leader = try await Leader(configuration)
        leader.store.base.createNode(node)
        return leader
    }

    private func running(_ id: String) -> TaskStatusUpdate {
        TaskStatusUpdate(taskID: id, status: TaskStatus(state: .running))
    }

    /// Statuses wait for the batch interval, and go out together; a full batch goes out at once.
    @Test func taskStatusesReachTheStoreInBatches() async throws {
        let leader = try await leader { $0.statusBatchLimit = 3 }
        for id in ["t1", "t2", "t3", "t4", "t5"] {
            leader.store.base.putTask(DispatchedTask(id: id, nodeID: node, status: TaskStatus(state: .assigned)))
        }
        var batches = leader.store.batches.makeAsyncIterator()
        let session = try await leader.register(node)
        _ = try #require(await batches.nextBatch(setting: node, to: .ready))

        try leader.dispatcher.updateTaskStatus(nodeID: node, session: session.id, updates: [running("t1")])
        try leader.dispatcher.updateTaskStatus(
            nodeID: node, session: session.id,
            updates: [running("t2"), TaskStatusUpdate(taskID: "t1", status: TaskStatus(state: .complete))])
        try await leader.advance(by: .milliseconds(99))
        #expect(leader.store.task("t1")?.status.state == .assigned)
        try await leader.advance(by: .milliseconds(1))
        let interval = try #require(await batches.next())
        // One batch, the last report per task winning.
        #expect(Set(interval.compactMap { $0.taskStatus?.id }) == ["t1", "t2"])
        #expect(interval.compactMap(\.taskStatus).first(where: { $0.id == "t1" })?.state == .complete)

        // Three queued writes fill a batch: it goes out without the clock moving.
        try leader.dispatcher.updateTaskStatus(
            nodeID: node, session: session.id, updates: ["t3", "t4", "t5"].map(running))
        let full = try #require(await batches.next())
        #expect(Set(full.compactMap { $0.taskStatus?.id }) == ["t3", "t4", "t5"])
        #expect(leader.store.task("t5")?.status.state == .running)
        try await leader.stop()
    }

    @Test func aStatusForAnotherNodesTaskIsRefusedAndNothingIsQueued() async throws {
        let leader = try await leader { _ in }
        leader.store.base.putTask(DispatchedTask(id: "mine", nodeID: node, status: TaskStatus(state: .assigned)))
        leader.store.base.putTask(
            DispatchedTask(id: "theirs", nodeID: nodeID("node-b"), status: TaskStatus(state: .assigned)))
        let session = try await leader.register(node)
        #expect(throws: DispatcherError.permissionDenied("cannot update a task not assigned this node")) {
            try leader.dispatcher.updateTaskStatus(
                nodeID: node, session: session.id, updates: [running("mine"), running("theirs")])
        }
        try await leader.advance(by: .seconds(1))
        #expect(leader.store.task("mine")?.status.state == .assigned)
        try await leader.stop()
    }

    /// Every change restarts the debounce; the batch goes out once the node's assignments have
    /// been quiet for it, or at once when it holds `maximumChanges`.
    @Test func assignmentsAreDebouncedAndCappedPerBatch() async throws {
        let leader = try await leader {
            $0.assignmentBatching = try AssignmentBatcherConfiguration(debounce: .milliseconds(100), maximumChanges: 4)
        }
        let session = try await leader.register(node)
        var assignments = try leader.dispatcher.assignments(nodeID: node, session: session.id).makeAsyncIterator()
        let complete = try #require(try await assignments.next())
        #expect(complete.kind == .complete && complete.changeCount == 0)

        func assign(_ id: String) {
            leader.store.base.putTask(DispatchedTask(id: id, nodeID: node, status: TaskStatus(state: .assigned)))
        }
        assign("t1")
        try await leader.advance(by: .milliseconds(60))
        assign("t2")
        try await leader.advance(by: .milliseconds(60))
        // 120 ms after t1, but only 60 ms after t2: a batch that did not restart would be out.
        assign("t3")
        try await leader.advance(by: .milliseconds(100))
        let debounced = try #require(try await assignments.next())
        #expect(debounced.kind == .incremental)
        #expect(try taskIDs(upsertedBy: debounced) == ["t1", "t2", "t3"])

        for id in ["t4", "t5", "t6", "t7"] { assign(id) }
        let capped = try #require(try await assignments.next())
        #expect(try taskIDs(upsertedBy: capped) == ["t4", "t5", "t6", "t7"])

        // Changed and deleted within one debounce: the node hears only the removal.
        var changed = try #require(leader.store.task("t1"))
        changed.desiredState = .shutdown
        leader.store.base.putTask(changed)
        leader.store.base.deleteTask("t1")
        try await leader.advance(by: .milliseconds(100))
        let removal = try #require(try await assignments.next())
        #expect(removal.changes.count == 1)
        guard case .removal = removal.changes.first else {
            Issue.record("expected a removal, got \(removal.changes)")
            return
        }
        try await leader.stop()
    }

    private func taskIDs(upsertedBy message: AssignmentMessage) throws -> Set<String> {
        var ids: Set<String> = []
        for change in message.changes {
            guard case .upsert(let assignment) = change else { continue }
            if case .task(let task) = try AssignedObject(decoding: assignment.payload) { ids.insert(task.id) }
        }
        return ids
    }
}
