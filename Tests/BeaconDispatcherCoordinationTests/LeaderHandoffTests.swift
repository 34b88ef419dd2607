import BeaconCoordination
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherCoordination
import Testing

/// SwarmKit's leader change on a store that outlives the leader: the next dispatcher opens the
/// same records, finds every node and every status the agents reported, marks the nodes that
/// were not DOWN UNKNOWN, and gives them twice the grace to come back.
@Suite(.timeLimit(.minutes(1))) struct LeaderHandoffTests {
    static func configuration() -> DispatcherConfiguration {
        var configuration = DispatcherConfiguration()
        configuration.heartbeatPeriod = .seconds(1)
        configuration.heartbeatJitter = .zero
        return configuration
    }

    /// A session is issued once its READY write is committed; with a whole batch interval since
    /// the last flush, that write goes out at once.
    static func register(_ node: NodeID, with dispatcher: Dispatcher<ManualClock>, on clock: ManualClock)
        async throws -> NodeSession
    {
        try clock.advance(by: dispatcher.configuration.statusBatchInterval)
        await dispatcher.waitUntilIdle()
        return try await dispatcher.session(nodeID: node, description: NodeDescription(hostname: node.rawValue))
    }

    @Test(arguments: Backend.allCases)
    func theNextLeaderFindsEveryNodeAndStatusAndGivesNodesTwiceTheGrace(_ backend: Backend) async throws {
        let (coordination, stop) = try await backend.open()
        let (returning, silent, dead) = (nodeID("returning"), nodeID("silent"), nodeID("dead"))
        let first = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/d/")
        for node in [returning, silent, dead] { try await first.createNode(node) }
        try await first.setNodeStatus(dead, NodeStatus(state: .down, message: "heartbeat failure"))
        try await first.putTask(DispatchedTask(id: "t1", nodeID: returning, status: TaskStatus(state: .assigned)))
        let firstEvents = EventLog(first)

        // The first leader: two nodes register, one reports its task running.
        let firstClock = ManualClock()
        let leader = try Dispatcher(configuration: Self.configuration(), clock: firstClock, store: first)
        let leading = Task { try await leader.run() }
        await leader.waitUntilIdle()
        // The start's UNKNOWN writes go out one batch interval in.
        try firstClock.advance(by: leader.configuration.statusBatchInterval)
        #expect(await firstEvents.node(silent, becomes: .unknown) != nil)
        let session = try await Self.register(returning, with: leader, on: firstClock)
        _ = try await Self.register(silent, with: leader, on: firstClock)
        #expect(first.node(returning)?.status.state == .ready)
        #expect(first.node(silent)?.status.state == .ready)
        try leader.updateTaskStatus(
            nodeID: returning, session: session.id,
            updates: [TaskStatusUpdate(taskID: "t1", status: TaskStatus(state: .running, message: "started"))])
        try firstClock.advance(by: leader.configuration.statusBatchInterval)
        #expect(await firstEvents.task("t1", becomes: .running) != nil)
        // The leader's process ends without a word to anyone.
        leader.stop()
        try await leading.value
        await first.close()

        // The next leader, on the same records.
        let next = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/d/")
        #expect(next.node(returning)?.status.state == .ready)
        #expect(next.node(silent)?.status.state == .ready)
        #expect(next.node(dead)?.status.state == .down)
        #expect(next.task("t1")?.status == TaskStatus(state: .running, message: "started"))
        let events = EventLog(next)
        let clock = ManualClock()
        let successor = try Dispatcher(configuration: Self.configuration(), clock: clock, store: next)
        let succeeding = Task { try await successor.run() }
        await successor.waitUntilIdle()
        #expect(successor.state(of: returning) == .unknown)
        #expect(successor.state(of: silent) == .unknown)
        #expect(successor.state(of: dead) == .down)
        try clock.advance(by: successor.configuration.statusBatchInterval)
        #expect(
            await events.node(silent, becomes: .unknown)?.status.message
                == "Node moved to \"unknown\" state due to leadership change in cluster")

        // `returning` comes back and beats; `silent` does not, and is DOWN at 2 × 3 × 1 s.
        let again = try await Self.register(returning, with: successor, on: clock)
        #expect(next.node(returning)?.status.state == .ready)
        var elapsed = successor.configuration.statusBatchInterval * 2
        while elapsed < .seconds(6) {
            try clock.advance(by: .milliseconds(500))
            elapsed += .milliseconds(500)
            await successor.waitUntilIdle()
            _ = try successor.heartbeat(nodeID: returning, session: again.id)
        }
        #expect(successor.state(of: silent) == .down)
        #expect(await events.node(silent, becomes: .down) != nil)
        #expect(next.node(silent)?.status.state == .down)
        #expect(next.node(returning)?.status.state == .ready)
        #expect(next.task("t1")?.status.state == .running)
        successor.stop()
        try await succeeding.value
        await next.close()
        await stop()
    }
}
