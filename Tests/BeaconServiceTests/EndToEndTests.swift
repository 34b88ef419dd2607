#if GRPC
import BeaconAgent
import BeaconClient
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherService
import Testing

/// A dispatcher behind its gRPC server and agents on loopback, on the system clock. Nothing here
/// asserts a duration; waits are bounded only so a broken build fails instead of hanging.
@Suite(.timeLimit(.minutes(2))) struct EndToEndTests {
    private func agent(
        _ node: String, managers: [String], connections: ManagerConnections,
        heartbeatTransport: HeartbeatTransport = .stream, callTimeout: Duration = .seconds(5)
    ) throws -> NodeAgent {
        let backoff = try Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))
        return try NodeAgent(
            configuration: AgentConfiguration(
                node: nodeID(node), description: NodeDescription(hostname: node), managers: managers, backoff: backoff,
                callTimeout: callTimeout, heartbeatTransport: heartbeatTransport),
            connections: connections)
    }

    /// Every way of beating: unary calls (SwarmKit's), messages on one stream, and datagrams.
    @Test(arguments: HeartbeatTransport.allCases)
    func registersHeartbeatsReceivesAssignmentsAndReportsStatus(heartbeatTransport: HeartbeatTransport) async throws {
        let store = InMemoryDispatcherStore()
        let node = nodeID("node-1")
        store.createNode(node)
        store.putTask(
            DispatchedTask(id: "t1", nodeID: node, status: TaskStatus(state: .assigned), spec: Array("spec".utf8)))
        let manager = try await RunningManager(
            store: store, acceptsHeartbeatDatagrams: heartbeatTransport == .datagrams)
        let connections = try ManagerConnections()
        let agent = try agent(
            "node-1", managers: [manager.address], connections: connections, heartbeatTransport: heartbeatTransport)
        let running = Task { try await agent.run() }

        try await eventually("the node is READY") { store.node(node)?.status.state == .ready }
        try await eventually("the task arrived") { agent.tasks.map(\.id) == ["t1"] }
        #expect(agent.tasks.first?.spec == Array("spec".utf8))
        // The dispatcher's period is 100 ms: several beats arrive, and the node stays READY.
        try await eventually("heartbeats arrive") { manager.dispatcher.heartbeatCount >= 5 }
        #expect(store.node(node)?.status.state == .ready)
        #expect(agent.sessionsStarted == 1)

        try agent.report(TaskStatusUpdate(taskID: "t1", status: TaskStatus(state: .running, message: "started")))
        try await eventually("the status is committed") { store.task("t1")?.status.state == .running }
        let tooLarge = TaskStatusUpdate(
            taskID: "t1", status: TaskStatus(state: .failed, error: String(repeating: "x", count: 20_000)))
        #expect(throws: AgentError.self) { try agent.report(tooLarge) }

        // A new task reaches the node as an INCREMENTAL diff on the open stream.
        store.putTask(DispatchedTask(id: "t2", nodeID: node, status: TaskStatus(state: .assigned)))
        try await eventually("the second task arrived") { agent.tasks.map(\.id) == ["t1", "t2"] }
        #expect(agent.sessionsStarted == 1)

        running.cancel()
        _ = await running.result
        await manager.stop()
        await connections.close()
    }

    /// An agent that beats with datagrams at a manager that does not take them: its session ends
    /// after the call timeout with a reason that says so, and the manager counted no beat.
    @Test func aDatagramAgentAtAManagerWithoutTheLaneSaysWhyItsSessionEnds() async throws {
        let store = InMemoryDispatcherStore()
        store.createNode(nodeID("node-1"))
        let manager = try await RunningManager(store: store)
        let connections = try ManagerConnections()
        let agent = try agent(
            "node-1", managers: [manager.address], connections: connections, heartbeatTransport: .datagrams,
            callTimeout: .milliseconds(400))
        var events = agent.events.makeAsyncIterator()
        let running = Task { try await agent.run() }
        // Within the node's 3.3 s deadline, so the lane's silence ends the session before the
        // manager forgets the node. A loaded machine may first time a session's start out; the
        // lane's end comes on a later session then.
        let ended = await next(&events) {
            if case .sessionEnded(_, let reason, _) = $0 { reason.contains("heartbeat datagram") } else { false }
        }
        guard case .sessionEnded(_, let reason, _) = ended else {
            Issue.record("no session ended: \(String(describing: ended))")
            return
        }
        #expect(reason.contains("no answer to a heartbeat datagram within 0.4"), "\(reason)")
        #expect(manager.dispatcher.heartbeatCount == 0)
        running.cancel()
        _ = await running.result
        await manager.stop()
        await connections.close()
    }

    @Test func aRestartedServerGetsEveryStatusBack() async throws {
        let store = InMemoryDispatcherStore()
        let node = nodeID("node-1")
        store.createNode(node)
        let taskIDs = (0..<40).map { "task-\($0)" }
        for id in taskIDs { store.putTask(DispatchedTask(id: id, nodeID: node, status: TaskStatus(state: .assigned))) }
        let first = try await RunningManager(store: store)
        let port = first.port
        let connections = try ManagerConnections()
        let agent = try agent("node-1", managers: [first.address], connections: connections)
        let running = Task { try await agent.run() }
        var events = agent.events.makeAsyncIterator()
        try await eventually("the first session") { agent.sessionsStarted == 1 && agent.tasks.count == 40 }

        // Half the statuses before the restart, the rest while the server is down: the agent
        // must deliver them all, resending on its new session what the old leader only queued.
        for id in taskIDs.prefix(20) {
            try agent.report(TaskStatusUpdate(taskID: id, status: TaskStatus(state: .running)))
        }
        try await eventually("the first manager acknowledged them") { agent.unacknowledgedStatuses == 0 }
        await first.stop()
        for id in taskIDs.dropFirst(20) {
            try agent.report(TaskStatusUpdate(taskID: id, status: TaskStatus(state: .failed, error: "exit 1")))
        }
        let second = try await RunningManager(store: store, port: port)

        // The new session sends every status again, the 20 the old one acknowledged too: the old
        // leader only queued them.
        var sessions = 0
        var acknowledgedOnTheNewSession = 0
        while sessions < 2 || acknowledgedOnTheNewSession < 40, let event = await events.next() {
            switch event {
            case .sessionStarted: sessions += 1
            case .statusesAcknowledged(let count) where sessions >= 2: acknowledgedOnTheNewSession += count
            default: break
            }
        }
        #expect(acknowledgedOnTheNewSession == 40)
        try await eventually("every status is in the store") {
            taskIDs.prefix(20).allSatisfy { store.task($0)?.status.state == .running }
                && taskIDs.dropFirst(20).allSatisfy {
                    store.task($0)?.status == TaskStatus(state: .failed, error: "exit 1")
                }
        }
        #expect(agent.unacknowledgedStatuses == 0)

        running.cancel()
        _ = await running.result
        await second.stop()
        await connections.close()
    }

    @Test func aStoppedManagerSendsItsAgentsToAnother() async throws {
        let store = InMemoryDispatcherStore()
        let node = nodeID("node-1")
        store.createNode(node)
        let first = try await RunningManager(store: store)
        let second = try await RunningManager(store: store)
        let connections = try ManagerConnections()
        let agent = try agent("node-1", managers: [first.address, second.address], connections: connections)
        let running = Task { try await agent.run() }
        var events = agent.events.makeAsyncIterator()

        #expect(
            await next(&events, where: { if case .sessionStarted(first.address, _) = $0 { true } else { false } })
                != nil)
        await first.stop()
        #expect(
            await next(
                &events,
                where: { if case .sessionEnded(first.address, _, failedOver: true) = $0 { true } else { false } })
                != nil)
        #expect(
            await next(&events, where: { if case .sessionStarted(second.address, _) = $0 { true } else { false } })
                != nil)
        try await eventually("the node is READY on the second manager") {
            store.node(node)?.status.state == .ready && second.dispatcher.heartbeatCount > 0
        }

        running.cancel()
        _ = await running.result
        await second.stop()
        await connections.close()
    }

    /// Two managers split the nodes: an agent that only knows the one that does not hold its node
    /// is told which does, in the answer's metadata, and opens its session there.
    @Test func anAgentSentToTheWrongManagerGoesToTheOwnerItNames() async throws {
        let store = InMemoryDispatcherStore()
        let first = try await RunningManager(store: store)
        let second = try await RunningManager(store: store)
        let table = try ShardTable(managers: [
            WeightedManager(nodeID: "m1", address: first.address),
            WeightedManager(nodeID: "m2", address: second.address),
        ])
        first.dispatcher.updateShard(DispatcherShard(table: table, manager: "m1"))
        second.dispatcher.updateShard(DispatcherShard(table: table, manager: "m2"))
        let node = try #require((0..<100).map { nodeID("node-\($0)") }.first { table.owner(of: $0)?.nodeID == "m2" })
        store.createNode(node)
        let connections = try ManagerConnections()
        let agent = try agent(node.rawValue, managers: [first.address], connections: connections)
        let running = Task { try await agent.run() }
        var events = agent.events.makeAsyncIterator()

        #expect(
            await next(
                &events,
                where: {
                    if case .redirected(manager: first.address, owner: second.address) = $0 { true } else { false }
                }) != nil)
        #expect(
            await next(&events, where: { if case .sessionStarted(second.address, _) = $0 { true } else { false } })
                != nil)
        #expect(agent.managers.servers.map(\.address) == [second.address, first.address])
        try await eventually("the node beats on its owner") { second.dispatcher.heartbeatCount > 0 }
        #expect(first.dispatcher.heartbeatCount == 0)

        running.cancel()
        _ = await running.result
        await first.stop()
        await second.stop()
        await connections.close()
    }

    @Test func aManagerThatForgetsTheSessionIsAskedForANewOneNotLeft() async throws {
        let store = InMemoryDispatcherStore()
        store.createNode(nodeID("node-1"))
        let first = try await RunningManager(store: store)
        let second = try await RunningManager(store: store)
        let connections = try ManagerConnections()
        let agent = try agent("node-1", managers: [first.address, second.address], connections: connections)
        let running = Task { try await agent.run() }
        var events = agent.events.makeAsyncIterator()
        #expect(
            await next(&events, where: { if case .sessionStarted(first.address, _) = $0 { true } else { false } })
                != nil)

        // Another registration of node-1 replaces the agent's session on the first manager.
        _ = try await first.dispatcher.register(nodeID: nodeID("node-1"), description: nil)
        #expect(
            await next(
                &events,
                where: { if case .sessionEnded(first.address, _, failedOver: false) = $0 { true } else { false } })
                != nil)
        #expect(
            await next(&events, where: { if case .sessionStarted(first.address, _) = $0 { true } else { false } })
                != nil)
        #expect(second.dispatcher.heartbeatCount == 0)

        running.cancel()
        _ = await running.result
        await first.stop()
        await second.stop()
        await connections.close()
    }

    @Test func aStatusForAnotherNodesTaskIsDroppedAndTheRestDelivered() async throws {
        let store = InMemoryDispatcherStore()
        store.createNode(nodeID("node-1"))
        store.createNode(nodeID("node-2"))
        store.putTask(DispatchedTask(id: "mine", nodeID: nodeID("node-1"), status: TaskStatus(state: .assigned)))
        // Reassigned to node-2 while node-1 was away; node-1 still has a status for it.
        store.putTask(DispatchedTask(id: "moved", nodeID: nodeID("node-2"), status: TaskStatus(state: .assigned)))
        let manager = try await RunningManager(store: store)
        let connections = try ManagerConnections()
        let agent = try agent("node-1", managers: [manager.address], connections: connections)
        try agent.report(TaskStatusUpdate(taskID: "mine", status: TaskStatus(state: .running)))
        try agent.report(TaskStatusUpdate(taskID: "moved", status: TaskStatus(state: .failed)))
        let running = Task { try await agent.run() }
        var events = agent.events.makeAsyncIterator()

        #expect(
            await next(&events, where: { if case .statusRefused(taskID: "moved", _) = $0 { true } else { false } })
                != nil)
        try await eventually("the node's own status is committed") { store.task("mine")?.status.state == .running }
        #expect(store.task("moved")?.status.state == .assigned)
        #expect(agent.unacknowledgedStatuses == 0)
        #expect(agent.sessionsStarted == 1)

        running.cancel()
        _ = await running.result
        await manager.stop()
        await connections.close()
    }

    @Test func anAgentRunsOnce() async throws {
        let connections = try ManagerConnections()
        let agent = try agent("node-1", managers: ["127.0.0.1:1"], connections: connections)
        let running = Task { try await agent.run() }
        var events = agent.events.makeAsyncIterator()
        // Nothing listens on port 1: the first attempt ends, which shows the first run started.
        #expect(await next(&events, where: { if case .sessionEnded = $0 { true } else { false } }) != nil)
        await #expect(throws: AgentError.alreadyRunning) { try await agent.run() }
        running.cancel()
        _ = await running.result
        await connections.close()
    }

    /// A byte budget above grpc-swift's default message limit (4 MiB) holds on both ends: the
    /// manager sends the node's tasks as one 6 MiB COMPLETE message, and the agent, configured
    /// with the same budget, takes it on its first stream.
    @Test func anAssignmentMessageAboveFourMebibytesReachesAnAgentWhoseBudgetAllowsIt() async throws {
        let budget = 8 << 20
        let store = InMemoryDispatcherStore()
        let node = nodeID("node-1")
        store.createNode(node)
        let ids = ["t1", "t2", "t3"]
        for id in ids {
            store.putTask(
                DispatchedTask(
                    id: id, nodeID: node, status: TaskStatus(state: .assigned),
                    spec: [UInt8](repeating: 7, count: 2 << 20)))
        }
        var dispatcherConfiguration = fastDispatcherConfiguration()
        dispatcherConfiguration.assignmentBatching = try AssignmentBatcherConfiguration(byteBudget: budget)
        dispatcherConfiguration.assignmentBacklogLimit = 2 * budget
        let manager = try await RunningManager(store: store, dispatcherConfiguration: dispatcherConfiguration)
        let connections = try ManagerConnections()
        let agent = try NodeAgent(
            configuration: AgentConfiguration(
                node: node, description: NodeDescription(hostname: "node-1"), managers: [manager.address],
                assignmentByteBudget: budget),
            connections: connections)
        var events = agent.events.makeAsyncIterator()
        let running = Task { try await agent.run() }

        try await eventually("the tasks arrived") { agent.tasks.map(\.id).sorted() == ids }
        #expect(agent.tasks.allSatisfy { $0.spec.count == 2 << 20 })
        #expect(agent.sessionsStarted == 1)
        running.cancel()
        _ = await running.result
        // Nothing went wrong on the way: no gap, no stream ended and reopened.
        while let event = await events.next() {
            if case .assignmentGap(let gap) = event { Issue.record("assignment gap: \(gap)") }
        }
        await manager.stop()
        await connections.close()
    }

    /// An agent that reads smaller messages than its manager sends tells the manager so, and
    /// gets its set cut to fit: before, every COMPLETE set above the agent's budget ended its
    /// session, and the next session sent the same set. A task too large for the agent alone is
    /// left out of its stream and counted, and the rest still arrive.
    @Test func aManagerCutsANodesMessagesToTheAgentsSmallerBudget() async throws {
        let store = InMemoryDispatcherStore()
        let node = nodeID("node-1")
        store.createNode(node)
        let ids = (0..<12).map { "t\($0)" }
        for id in ids {
            store.putTask(
                DispatchedTask(
                    id: id, nodeID: node, status: TaskStatus(state: .assigned),
                    spec: [UInt8](repeating: 7, count: 1_000)))
        }
        store.putTask(
            DispatchedTask(
                id: "large", nodeID: node, status: TaskStatus(state: .assigned),
                spec: [UInt8](repeating: 7, count: 6_000)))
        // The manager's budget is the default, 1 MiB: the whole set would go as one 18 KB message.
        let manager = try await RunningManager(store: store)
        let connections = try ManagerConnections()
        let agent = try NodeAgent(
            configuration: AgentConfiguration(
                node: node, description: NodeDescription(hostname: "node-1"), managers: [manager.address],
                assignmentByteBudget: 4_096),
            connections: connections)
        var events = agent.events.makeAsyncIterator()
        let running = Task { try await agent.run() }

        try await eventually("the tasks arrived") { agent.tasks.map(\.id).sorted() == ids.sorted() }
        try await eventually("the large task was counted") { manager.dispatcher.oversizedAssignments == 1 }
        #expect(agent.sessionsStarted == 1)
        running.cancel()
        _ = await running.result
        // The set came in parts (a part settles nothing until the last), each within the budget.
        var settled = 0
        while let event = await events.next() {
            switch event {
            case .assignmentGap(let gap): Issue.record("assignment gap: \(gap)")
            case .assignmentsApplied(_, _, let bytes):
                settled += 1
                #expect(bytes <= 4_096)
            default: break
            }
        }
        #expect(settled >= 1)
        await manager.stop()
        await connections.close()
    }

    /// A manager that reads smaller requests than the agent's budget allows tells each session
    /// its limit: the agent cuts a status that would not fit to the limit (its state intact) and
    /// reports it with the rest, where it used to send it whole in a report the manager's
    /// transport reset, which ended the session, and the next session sent it again.
    @Test func anAgentCutsAStatusLargerThanItsManagerReads() async throws {
        let store = InMemoryDispatcherStore()
        let node = nodeID("node-1")
        store.createNode(node)
        for id in ["small", "large"] {
            store.putTask(DispatchedTask(id: id, nodeID: node, status: TaskStatus(state: .assigned)))
        }
        let manager = try await RunningManager(store: store, maximumRequestBytes: 2_048)
        let connections = try ManagerConnections()
        let agent = try agent("node-1", managers: [manager.address], connections: connections)
        var events = agent.events.makeAsyncIterator()
        let running = Task { try await agent.run() }
        try await eventually("the tasks arrived") { agent.tasks.count == 2 }

        // Within the agent's own limit (16 KiB), beyond the manager's.
        let error = String(repeating: "x", count: 4_000)
        try agent.report(TaskStatusUpdate(taskID: "large", status: TaskStatus(state: .failed, error: error)))
        try agent.report(TaskStatusUpdate(taskID: "small", status: TaskStatus(state: .running)))
        try await eventually("both statuses are committed") {
            store.task("small")?.status.state == .running && store.task("large")?.status.state == .failed
        }
        let committed = try #require(store.task("large")?.status.error)
        #expect(committed.hasSuffix(" [cut to fit the manager's request limit]"))
        #expect(committed.utf8.count < 2_048)
        #expect(error.hasPrefix(committed.prefix { $0 == "x" }))
        try await eventually("every status is acknowledged") { agent.unacknowledgedStatuses == 0 }
        #expect(agent.sessionsStarted == 1)
        running.cancel()
        _ = await running.result
        var cut: [AgentEvent] = []
        while let event = await events.next() {
            if case .statusCut = event { cut.append(event) }
        }
        #expect(cut == [.statusCut(taskID: "large", limit: 2_048)])
        await manager.stop()
        await connections.close()
    }
}

#endif
