import BeaconCore
import Testing

@testable import BeaconDispatcher

/// SwarmKit's `TestTaskUpdate` and the status write path (§A16 6).
@Suite struct TaskStatusTests {
    private func fixture() throws -> (VirtualDispatcher, NodeID, SessionID) {
        let dispatcher = try startedDispatcher()
        let node = nodeID("node-a")
        let store = dispatcher.store
        store.putTask(DispatchedTask(id: "1", nodeID: node))
        store.putTask(DispatchedTask(id: "2", nodeID: node))
        store.putTask(DispatchedTask(id: "3", nodeID: nodeID("node-b")))
        store.putTask(DispatchedTask(id: "4", nodeID: node, status: TaskStatus(state: .shutdown)))
        let session = try dispatcher.registerNow(node).sessionID
        return (dispatcher, node, session)
    }

    @Test func updatesApplyAtTheNextFlushAndNeverMoveBackwards() throws {
        let (dispatcher, node, session) = try fixture()
        try dispatcher.core.updateTaskStatus(
            node: node, session: session,
            [
                TaskStatusUpdate(taskID: "1", status: TaskStatus(state: .assigned)),
                TaskStatusUpdate(taskID: "2", status: TaskStatus(state: .assigned)),
                TaskStatusUpdate(taskID: "4", status: TaskStatus(state: .running)),
            ])
        #expect(dispatcher.store.task("1")?.status.state == .new)
        dispatcher.advance(by: .milliseconds(100))
        #expect(dispatcher.store.task("1")?.status.state == .assigned)
        #expect(dispatcher.store.task("2")?.status.state == .assigned)
        #expect(dispatcher.store.task("3")?.status.state == .new)
        #expect(dispatcher.store.task("4")?.status.state == .shutdown)
    }

    @Test func aForeignTaskRefusesTheWholeCall() throws {
        let (dispatcher, node, session) = try fixture()
        let error = dispatcherError { () throws(DispatcherError) in
            try dispatcher.core.updateTaskStatus(
                node: node, session: session,
                [
                    TaskStatusUpdate(taskID: "1", status: TaskStatus(state: .assigned)),
                    TaskStatusUpdate(taskID: "3", status: TaskStatus(state: .assigned)),
                ])
        }
        #expect(error == .permissionDenied("cannot update a task not assigned this node"))
        #expect(dispatcher.core.pendingWriteCount == 0)
        dispatcher.advance(by: .milliseconds(100))
        #expect(dispatcher.store.task("1")?.status.state == .new)
        #expect(dispatcher.store.task("3")?.status.state == .new)
    }

    @Test func emptyStatusesAndUnknownTasksAreSkippedAndTheLastWriteWins() throws {
        let (dispatcher, node, session) = try fixture()
        try dispatcher.core.updateTaskStatus(
            node: node, session: session,
            [
                TaskStatusUpdate(taskID: "1", status: nil),
                TaskStatusUpdate(taskID: "gone", status: TaskStatus(state: .running)),
                TaskStatusUpdate(taskID: "2", status: TaskStatus(state: .running, message: "first")),
            ])
        try dispatcher.core.updateTaskStatus(
            node: node, session: session,
            [
                TaskStatusUpdate(taskID: "2", status: TaskStatus(state: .running, message: "second"))
            ])
        #expect(dispatcher.core.pendingWriteCount == 1)
        dispatcher.advance(by: .milliseconds(100))
        #expect(dispatcher.store.task("1")?.status.state == .new)
        #expect(dispatcher.store.task("2")?.status == TaskStatus(state: .running, message: "second"))
        #expect(dispatcher.store.task("gone") == nil)
    }

    @Test func callsNeedTheCurrentSession() throws {
        let (dispatcher, node, session) = try fixture()
        let made = try SessionID(String(session.description.prefix(16)) + "0000000000000001")
        #expect(throws: DispatcherError.sessionInvalid) {
            try dispatcher.core.updateTaskStatus(node: node, session: made, [])
        }
        #expect(throws: DispatcherError.nodeNotRegistered) {
            try dispatcher.core.updateTaskStatus(node: nodeID("stranger"), session: session, [])
        }
    }

    @Test func aFullBatchIsFlushedWithoutWaitingForTheInterval() throws {
        var configuration = DispatcherConfiguration()
        configuration.statusBatchLimit = 3
        let dispatcher = try startedDispatcher(configuration, nodes: ["n"])
        let node = nodeID("n")
        let session = try dispatcher.registerNow(node).sessionID
        for id in ["a", "b", "c"] { dispatcher.store.putTask(DispatchedTask(id: id, nodeID: node)) }
        try dispatcher.core.updateTaskStatus(
            node: node, session: session,
            [
                TaskStatusUpdate(taskID: "a", status: TaskStatus(state: .assigned)),
                TaskStatusUpdate(taskID: "b", status: TaskStatus(state: .assigned)),
            ])
        #expect(!dispatcher.core.isFlushDue(at: dispatcher.now))
        try dispatcher.core.updateTaskStatus(
            node: node, session: session,
            [
                TaskStatusUpdate(taskID: "c", status: TaskStatus(state: .assigned))
            ])
        #expect(dispatcher.core.isFlushDue(at: dispatcher.now))
        dispatcher.advance(by: .zero)
        #expect(dispatcher.store.task("c")?.status.state == .assigned)
    }
}
