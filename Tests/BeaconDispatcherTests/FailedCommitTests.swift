import BeaconCore
import Testing

@testable import BeaconDispatcher

/// A batch of writes the store did not commit is not lost: the dispatcher writes again what it
/// still holds true (a node's DOWN, the task statuses its nodes reported), not what was decided
/// since. Without it a node marked DOWN in a quiet cluster stayed READY in the store until it
/// registered again, and reports the caller was told were taken never landed.
@Suite struct FailedCommitTests {
    /// Moves the clock to `instant` and runs the wheel and the timers, but takes no batch.
    private func expire(_ dispatcher: VirtualDispatcher, until instant: BeaconInstant) throws {
        try dispatcher.clock.advance(to: instant)
        let now = dispatcher.now
        let core = dispatcher.core
        _ = try core.path.wheel.advance(to: now) { core.expire($0, at: now) }
        core.fireTimers(at: now)
        core.takeDeferredCalls().perform()
    }

    /// node-a registered with task "t", whose RUNNING report it has just made (not yet taken).
    private func reportedTask(
        _ configuration: DispatcherConfiguration = .init()
    ) throws -> (VirtualDispatcher, NodeID, SessionID) {
        let dispatcher = try startedDispatcher(configuration)
        let node = nodeID("node-a")
        dispatcher.store.putTask(DispatchedTask(id: "t", nodeID: node, status: TaskStatus(state: .assigned)))
        let session = try dispatcher.registerNow(node).sessionID
        try dispatcher.core.updateTaskStatus(
            node: node, session: session, [TaskStatusUpdate(taskID: "t", status: TaskStatus(state: .running))])
        return (dispatcher, node, session)
    }

    @Test func aDownAndTheTaskStatusesOfAFailedCommitAreWrittenAgain() throws {
        let (dispatcher, node, _) = try reportedTask()
        try expire(dispatcher, until: dispatcher.now.advanced(by: .seconds(60)))
        let batch = try #require(dispatcher.core.takeWrites(at: dispatcher.now))
        #expect(
            batch.writes.contains {
                if case .nodeStatus(_, let status, _) = $0 { status.state == .down } else { false }
            })
        dispatcher.commit(batch, error: .storeFailure("the store did not answer"))
        #expect(dispatcher.store.node(node)?.status.state == .ready)

        dispatcher.advance(by: .seconds(1))
        #expect(dispatcher.store.node(node)?.status.state == .down)
        #expect(dispatcher.store.task("t")?.status.state == .running)
    }

    /// What was decided after the failed batch was taken stands: a newer report of the task is
    /// not overwritten by the failed one, and a node that registered again is READY, not DOWN.
    @Test func whatChangedSinceTheFailedBatchWins() throws {
        let (dispatcher, node, session) = try reportedTask()
        let batch = try #require(dispatcher.core.takeWrites(at: dispatcher.now))
        try dispatcher.core.updateTaskStatus(
            node: node, session: session,
            [TaskStatusUpdate(taskID: "t", status: TaskStatus(state: .running, message: "newer"))])
        dispatcher.commit(batch, error: .storeFailure("the store did not answer"))
        dispatcher.advance(by: .seconds(1))
        #expect(dispatcher.store.task("t")?.status.message == "newer")

        try expire(dispatcher, until: dispatcher.now.advanced(by: .seconds(60)))
        let down = try #require(dispatcher.core.takeWrites(at: dispatcher.now))
        _ = try dispatcher.registerNow(node)
        dispatcher.commit(down, error: .storeFailure("the store did not answer"))
        dispatcher.advance(by: .seconds(1))
        #expect(dispatcher.store.node(node)?.status.state == .ready)
    }

    /// An orphaning that did not commit is written again while its node has not come back. The
    /// retry asked whether the node was still DOWN, which it no longer is once its orphan timer
    /// has fired, so the write was dropped and the tasks of a dead node stayed RUNNING.
    @Test func aFailedOrphaningIsWrittenAgain() throws {
        var configuration = DispatcherConfiguration()
        configuration.orphanAfter = .seconds(60)
        let (dispatcher, node, _) = try reportedTask(configuration)
        dispatcher.advance(by: .seconds(30))
        #expect(dispatcher.store.node(node)?.status.state == .down)
        try expire(dispatcher, until: dispatcher.now.advanced(by: .seconds(60)))
        let batch = try #require(dispatcher.core.takeWrites(at: dispatcher.now))
        #expect(batch.writes.contains { if case .orphanTasks(node) = $0 { true } else { false } })
        dispatcher.commit(batch, error: .storeFailure("the store did not answer"))
        #expect(dispatcher.store.task("t")?.status.state == .running)
        dispatcher.advance(by: .seconds(1))
        #expect(dispatcher.store.task("t")?.status.state == .orphaned)
    }

    /// A batch that fails after the dispatcher stopped is not carried into its next term: what
    /// a stopped term could not write is its own (SwarmKit PR 2091), and written terms later it
    /// could land after another leader acted.
    @Test func aBatchThatFailsAfterTheStopIsNotCarriedIntoTheNextTerm() throws {
        let (dispatcher, _, _) = try reportedTask()
        let batch = try #require(dispatcher.core.takeWrites(at: dispatcher.now))
        dispatcher.stop()
        dispatcher.commit(batch, error: .storeFailure("the store did not answer"))
        #expect(dispatcher.core.pendingWriteCount == 0)
        try dispatcher.start()
        #expect(
            dispatcher.core.takeWrites(at: dispatcher.now).map {
                $0.writes.contains { if case .taskStatus = $0 { true } else { false } }
            } != true)
    }

    /// A failed batch is not taken again at once, even when it fills the queue: the next waits
    /// for the interval, so a store that refuses at once is not asked again in a tight loop.
    @Test func aFailedFullBatchWaitsForTheIntervalBeforeTheNextTry() throws {
        var configuration = DispatcherConfiguration()
        configuration.statusBatchLimit = 1
        let (dispatcher, node, session) = try reportedTask(configuration)
        #expect(dispatcher.core.isFlushDue(at: dispatcher.now))
        let batch = try #require(dispatcher.core.takeWrites(at: dispatcher.now))
        dispatcher.commit(batch, error: .storeFailure("the store refused at once"))
        #expect(!dispatcher.core.isFlushDue(at: dispatcher.now))
        try dispatcher.clock.advance(to: dispatcher.now.advanced(by: configuration.statusBatchInterval))
        #expect(dispatcher.core.isFlushDue(at: dispatcher.now))
        // Once a batch is taken again, a full queue is due at once as before.
        let retried = try #require(dispatcher.core.takeWrites(at: dispatcher.now))
        dispatcher.commit(retried)
        #expect(dispatcher.store.task("t")?.status.state == .running)
        try dispatcher.core.updateTaskStatus(
            node: node, session: session, [TaskStatusUpdate(taskID: "t", status: TaskStatus(state: .complete))])
        #expect(dispatcher.core.isFlushDue(at: dispatcher.now))
    }
}
