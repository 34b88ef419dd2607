import BeaconCore
import BeaconPrimitives
import Testing

@testable import BeaconDispatcher

/// SwarmKit's assignment-stream tests (§A13 9–15, §A16 7), received through the core's applier.
@Suite struct AssignmentStreamTests {
    static let taskStates: [TaskState] = [
        .new, .pending, .assigned, .accepted, .preparing, .ready, .starting, .running, .complete, .shutdown, .failed,
        .rejected,
    ]

    private func fixture() throws -> (VirtualDispatcher, NodeID, SessionID, AgentModel) {
        let dispatcher = try startedDispatcher()
        let node = nodeID("node-a")
        let session = try dispatcher.registerNow(node).sessionID
        return (dispatcher, node, session, AgentModel())
    }

    /// One task per state, each with its own secret and config plus a shared pair.
    private func putTasks(_ store: InMemoryDispatcherStore, node: NodeID, createDependencies: Bool = true) {
        for (index, state) in Self.taskStates.enumerated() {
            if createDependencies {
                store.putDependency(TaskDependency(kind: .secret, id: "secret\(index)", data: [UInt8(index)]))
                store.putDependency(TaskDependency(kind: .config, id: "config\(index)", data: [UInt8(index)]))
            }
            store.putTask(
                DispatchedTask(
                    id: "task\(index)", nodeID: node, status: TaskStatus(state: state),
                    secrets: ["secret\(index)", "shared-secret"], configs: ["config\(index)"]))
        }
    }

    private var assignedTasks: Set<String> {
        Set(Self.taskStates.indices.filter { Self.taskStates[$0] >= .assigned }.map { "task task\($0)" })
    }

    private func dependencies(ofStates range: ClosedRange<TaskState>) -> Set<String> {
        Set(
            Self.taskStates.indices.filter { range.contains(Self.taskStates[$0]) }.flatMap {
                ["secret secret\($0)", "config config\($0)"]
            })
    }

    @Test func theFirstMessageIsTheCompleteSetOfAssignedTasksAndTheirDependencies() throws {
        let (dispatcher, node, session, agent) = try fixture()
        dispatcher.store.putDependency(TaskDependency(kind: .secret, id: "shared-secret", data: [9]))
        putTasks(dispatcher.store, node: node)
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)
        let complete = try #require(agent.messages.first)
        #expect(complete.kind == .complete)
        #expect(complete.appliesTo == 0)
        #expect(
            agent.held
                == assignedTasks.union(dependencies(ofStates: .assigned ... .running)).union(["secret shared-secret"]))
        #expect(agent.held.count == 10 + 12 + 1)
    }

    @Test func rewritingUnchangedTasksResendsOnlyAssignedOnesAndReleasesFinishedTasksDependencies() throws {
        let (dispatcher, node, session, agent) = try fixture()
        putTasks(dispatcher.store, node: node)
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)
        for index in Self.taskStates.indices { dispatcher.store.putTask(dispatcher.store.task("task\(index)")!) }
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.messages.count == 2)
        #expect(agent.messages[1].kind == .incremental)
        #expect(agent.messages[1].appliesTo == agent.messages[0].resultsIn)
        #expect(agent.lastUpserts == ["task task2"])
        #expect(agent.lastRemovals.isEmpty)
        // Deleting every task removes every assigned task and every dependency the node holds.
        for index in Self.taskStates.indices { dispatcher.store.deleteTask("task\(index)") }
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.lastRemovals == assignedTasks.union(dependencies(ofStates: .assigned ... .running)))
        #expect(agent.held.isEmpty)
        #expect(agent.applier.table.isEmpty)
    }

    @Test func finishingATaskReleasesDependenciesNoOtherTaskUses() throws {
        let (dispatcher, node, session, agent) = try fixture()
        dispatcher.store.putDependency(TaskDependency(kind: .secret, id: "shared", data: [1]))
        dispatcher.store.putDependency(TaskDependency(kind: .secret, id: "own", data: [2]))
        dispatcher.store.putTask(
            DispatchedTask(id: "a", nodeID: node, status: TaskStatus(state: .running), secrets: ["shared", "own"]))
        dispatcher.store.putTask(
            DispatchedTask(id: "b", nodeID: node, status: TaskStatus(state: .running), secrets: ["shared"]))
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)
        #expect(agent.held == ["task a", "task b", "secret shared", "secret own"])
        var finished = try #require(dispatcher.store.task("a"))
        finished.status = TaskStatus(state: .complete)
        dispatcher.store.putTask(finished)
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.lastRemovals == ["secret own"])
        #expect(agent.lastUpserts.isEmpty)
        #expect(agent.held == ["task a", "task b", "secret shared"])
    }

    @Test func statusOnlyChangesAboveAssignedAreNotSentButDesiredStateChangesAre() throws {
        let (dispatcher, node, session, agent) = try fixture()
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)
        #expect(agent.messages.count == 1)
        #expect(agent.messages[0].changeCount == 0)
        dispatcher.store.putTask(DispatchedTask(id: "t1", nodeID: node, status: TaskStatus(state: .running)))
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.lastUpserts == ["task t1"])
        var failed = try #require(dispatcher.store.task("t1"))
        failed.status = TaskStatus(state: .failed, error: "1234")
        dispatcher.store.putTask(failed)
        dispatcher.advance(by: .milliseconds(250))
        #expect(agent.messages.count == 2)
        failed.desiredState = .shutdown
        dispatcher.store.putTask(failed)
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.messages.count == 3)
        #expect(agent.lastUpserts == ["task t1"])
    }

    @Test func createUpdateDeleteWithinTheDebounceSendsOnlyRemovals() throws {
        let (dispatcher, node, session, agent) = try fixture()
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)
        for id in ["t1", "t2"] {
            dispatcher.store.putTask(DispatchedTask(id: id, nodeID: node, status: TaskStatus(state: .assigned)))
        }
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.lastUpserts == ["task t1", "task t2"])
        for id in ["t1", "t2"] {
            var task = try #require(dispatcher.store.task(id))
            task.spec = [1]
            dispatcher.store.putTask(task)
        }
        dispatcher.advance(by: .milliseconds(50))
        for id in ["t1", "t2"] { dispatcher.store.deleteTask(id) }
        dispatcher.advance(by: .milliseconds(99))
        #expect(agent.messages.count == 2)
        dispatcher.advance(by: .milliseconds(1))
        #expect(agent.messages.count == 3)
        #expect(agent.lastUpserts.isEmpty)
        #expect(agent.lastRemovals == ["task t1", "task t2"])
    }

    @Test func aHundredModificationsSendWithoutWaitingForTheDebounce() throws {
        let (dispatcher, node, session, agent) = try fixture()
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)
        for index in 0..<100 {
            dispatcher.store.putTask(
                DispatchedTask(id: "t\(index)", nodeID: node, status: TaskStatus(state: .assigned)))
        }
        #expect(dispatcher.core.nextWakeup(after: dispatcher.now) == dispatcher.now)
        dispatcher.advance(by: .zero)
        #expect(agent.messages.count == 2)
        #expect(agent.messages[1].changeCount == 100)
    }

    @Test func editingOrDeletingSecretsAndConfigsSendsNothing() throws {
        let (dispatcher, node, session, agent) = try fixture()
        dispatcher.store.putDependency(TaskDependency(kind: .secret, id: "s", data: [1]))
        dispatcher.store.putDependency(TaskDependency(kind: .config, id: "c", data: [1]))
        dispatcher.store.putTask(
            DispatchedTask(id: "t", nodeID: node, status: TaskStatus(state: .running), secrets: ["s"], configs: ["c"]))
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)
        dispatcher.store.putDependency(TaskDependency(kind: .secret, id: "s", data: [2]))
        dispatcher.advance(by: .milliseconds(250))
        dispatcher.store.deleteDependency(.config, id: "c")
        dispatcher.advance(by: .milliseconds(250))
        #expect(agent.messages.count == 1)
    }

    /// A task the orchestrator moves to another node, or to none, is removed from the node it
    /// left (with the secrets only it used there), and reaches the node it moved to.
    @Test func aTaskMovedToAnotherNodeOrToNoneLeavesTheNodeItWasOn() throws {
        let (dispatcher, nodeA, sessionA, agentA) = try fixture()
        let nodeB = nodeID("node-b")
        let sessionB = try dispatcher.registerNow(nodeB).sessionID
        let agentB = AgentModel()
        try dispatcher.core.openAssignments(node: nodeA, session: sessionA, at: dispatcher.now, agentA.receive)
        try dispatcher.core.openAssignments(node: nodeB, session: sessionB, at: dispatcher.now, agentB.receive)
        dispatcher.store.putDependency(TaskDependency(kind: .secret, id: "s", data: [1]))
        var task = DispatchedTask(id: "t", nodeID: nodeA, status: TaskStatus(state: .running), secrets: ["s"])
        dispatcher.store.putTask(task)
        dispatcher.advance(by: .milliseconds(100))
        #expect(agentA.held == ["task t", "secret s"])

        task.nodeID = nodeB
        dispatcher.store.putTask(task)
        dispatcher.advance(by: .milliseconds(100))
        #expect(agentA.held.isEmpty)
        #expect(agentB.held == ["task t", "secret s"])

        task.nodeID = nil
        dispatcher.store.putTask(task)
        dispatcher.advance(by: .milliseconds(100))
        #expect(agentB.held.isEmpty)
    }

    /// A held task's secrets and configs follow its writes: new ones are sent, ones it no longer
    /// names are removed, and a task that finishes in the same write as another change lets go
    /// of its own.
    @Test func aHeldTasksDependenciesFollowItsWrites() throws {
        let (dispatcher, node, session, agent) = try fixture()
        for id in ["s1", "s2"] { dispatcher.store.putDependency(TaskDependency(kind: .secret, id: id, data: [1])) }
        dispatcher.store.putDependency(TaskDependency(kind: .config, id: "c", data: [1]))
        var task = DispatchedTask(id: "t", nodeID: node, status: TaskStatus(state: .running), secrets: ["s1"])
        dispatcher.store.putTask(task)
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)
        #expect(agent.held == ["task t", "secret s1"])

        task.secrets = ["s2"]
        task.configs = ["c"]
        dispatcher.store.putTask(task)
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.held == ["task t", "secret s2", "config c"])

        task.status = TaskStatus(state: .complete)
        task.desiredState = .shutdown
        dispatcher.store.putTask(task)
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.held == ["task t"])
        dispatcher.store.deleteTask("t")
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.held.isEmpty)
    }

    /// A secret missing when the first task that needs it is sent goes with the next task that
    /// needs it once it exists; it was looked up only for the first, so it never reached the node,
    /// though a stream opened again would carry it.
    @Test func aDependencyStoredAfterItsFirstTaskGoesWithTheNext() throws {
        let (dispatcher, node, session, agent) = try fixture()
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)
        dispatcher.store.putTask(
            DispatchedTask(id: "t1", nodeID: node, status: TaskStatus(state: .assigned), secrets: ["late"]))
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.held == ["task t1"])
        dispatcher.store.putDependency(TaskDependency(kind: .secret, id: "late", data: [7]))
        dispatcher.store.putTask(
            DispatchedTask(id: "t2", nodeID: node, status: TaskStatus(state: .assigned), secrets: ["late"]))
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.held == ["task t1", "task t2", "secret late"])
        let again = AgentModel()
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, again.receive)
        #expect(again.held == agent.held)
    }

    @Test func missingDependenciesAreSkippedAndNeverRemoved() throws {
        let (dispatcher, node, session, agent) = try fixture()
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)
        dispatcher.store.putDependency(TaskDependency(kind: .secret, id: "present", data: [1]))
        dispatcher.store.putTask(
            DispatchedTask(id: "t", nodeID: node, status: TaskStatus(state: .assigned), secrets: ["present", "absent"]))
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.lastUpserts == ["task t", "secret present"])
        dispatcher.store.deleteTask("t")
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.lastRemovals == ["task t", "secret present"])
        #expect(agent.messages.last?.changeCount == 2)
    }

    @Test func largeSetsAreSplitUnderTheByteBudget() throws {
        var configuration = DispatcherConfiguration()
        configuration.assignmentBatching = try AssignmentBatcherConfiguration(byteBudget: 4096)
        let dispatcher = try startedDispatcher(configuration)
        let node = nodeID("node-a")
        for index in 0..<200 {
            dispatcher.store.putTask(
                DispatchedTask(
                    id: "t\(index)", nodeID: node, status: TaskStatus(state: .assigned),
                    spec: Array(repeating: 7, count: 100)))
        }
        let session = try dispatcher.registerNow(node).sessionID
        let agent = AgentModel()
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)
        #expect(agent.messages.count > 5)
        #expect(agent.messages.allSatisfy { $0.bytes.count <= 4096 })
        #expect(agent.applier.isSettled)
        #expect(agent.held.count == 200)
    }

    /// A node that reads smaller messages than the configured budget gets its set cut to its
    /// own; what is too large for it alone is left out of its stream only, and another node with
    /// no budget of its own gets it. A budget above the configured one changes nothing, and one
    /// below the encoder's smallest is refused before the node's open stream is touched.
    @Test func aNodesOwnSmallerBudgetCutsItsMessagesAndNoOneElses() throws {
        let dispatcher = try startedDispatcher()
        let (small, plain) = (nodeID("node-small"), nodeID("node-plain"))
        for node in [small, plain] {
            dispatcher.store.createNode(node)
            for index in 0..<40 {
                dispatcher.store.putTask(
                    DispatchedTask(
                        id: "\(node)-t\(index)", nodeID: node, status: TaskStatus(state: .assigned),
                        spec: Array(repeating: 7, count: 100)))
            }
            dispatcher.store.putTask(
                DispatchedTask(
                    id: "\(node)-large", nodeID: node, status: TaskStatus(state: .assigned),
                    spec: Array(repeating: 7, count: 2_000)))
        }
        let (smallAgent, plainAgent) = (AgentModel(), AgentModel())
        let smallSession = try dispatcher.registerNow(small).sessionID
        let plainSession = try dispatcher.registerNow(plain).sessionID
        try dispatcher.core.openAssignments(
            node: small, session: smallSession, byteBudget: 1_024, at: dispatcher.now, smallAgent.receive)
        try dispatcher.core.openAssignments(
            node: plain, session: plainSession, byteBudget: 1 << 30, at: dispatcher.now, plainAgent.receive)
        #expect(smallAgent.messages.count > 4)
        #expect(smallAgent.messages.allSatisfy { $0.bytes.count <= 1_024 })
        #expect(smallAgent.applier.isSettled)
        #expect(smallAgent.held.count == 40)
        #expect(!smallAgent.held.contains("task node-small-large"))
        #expect(plainAgent.messages.count == 1)
        #expect(plainAgent.held.count == 41)
        #expect(dispatcher.core.counters.oversizedAssignments == 1)

        // Later changes keep to the node's budget too.
        for index in 40..<60 {
            dispatcher.store.putTask(
                DispatchedTask(
                    id: "node-small-t\(index)", nodeID: small, status: TaskStatus(state: .assigned),
                    spec: Array(repeating: 7, count: 100)))
        }
        dispatcher.advance(by: .milliseconds(100))
        #expect(smallAgent.messages.allSatisfy { $0.bytes.count <= 1_024 })
        #expect(smallAgent.held.count == 60)
        #expect(smallAgent.applier.isSettled)

        let refused = AgentModel()
        #expect(throws: DispatcherError.self) {
            try dispatcher.core.openAssignments(
                node: small, session: smallSession, byteBudget: AssignmentEncoder.minimumByteBudget - 1,
                at: dispatcher.now, refused.receive)
        }
        #expect(refused.messages.isEmpty)
        #expect(dispatcher.core.assignmentStreamCount == 2)
    }

    /// A task or secret too large for any message is left out of the stream and counted; the
    /// rest of the node's assignments, a stop order included, still go out, and the stream opens
    /// again. Before, one such task ended the stream and every reopening of it failed.
    @Test func anObjectTooLargeForAnyMessageIsLeftOutAndTheRestStillFlows() throws {
        var configuration = DispatcherConfiguration()
        configuration.assignmentBatching = try AssignmentBatcherConfiguration(byteBudget: 4096)
        let dispatcher = try startedDispatcher(configuration)
        let node = nodeID("node-a")
        var small = DispatchedTask(id: "small", nodeID: node, status: TaskStatus(state: .running))
        dispatcher.store.putTask(small)
        let session = try dispatcher.registerNow(node).sessionID
        let agent = AgentModel()
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)

        let large = Array(repeating: UInt8(7), count: 8192)
        dispatcher.store.putDependency(TaskDependency(kind: .secret, id: "huge", data: large))
        dispatcher.store.putTask(
            DispatchedTask(id: "big", nodeID: node, status: TaskStatus(state: .assigned), spec: large))
        dispatcher.store.putTask(
            DispatchedTask(id: "fits", nodeID: node, status: TaskStatus(state: .assigned), secrets: ["huge"]))
        small.desiredState = .shutdown
        dispatcher.store.putTask(small)
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.held == ["task small", "task fits"])
        #expect(agent.lastUpserts == ["task small", "task fits"])
        #expect(agent.applier.isSettled)
        #expect(dispatcher.core.counters.oversizedAssignments == 2)

        let again = AgentModel()
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, again.receive)
        #expect(again.held == ["task small", "task fits"])
    }

    /// A status-only report, however long its message, is never sent, so never too large: a
    /// task that fails with a long error still lets go of its secrets, and nothing is counted.
    /// A dispatcher whose messages hold 4 KiB, and a node's open stream holding RUNNING task "t"
    /// (with a spec of `specBytes`) and its secret "s".
    private func runningTaskWithASecret(specBytes: Int) throws -> (VirtualDispatcher, AgentModel) {
        var configuration = DispatcherConfiguration()
        configuration.assignmentBatching = try AssignmentBatcherConfiguration(byteBudget: 4096)
        let dispatcher = try startedDispatcher(configuration)
        let node = nodeID("node-a")
        dispatcher.store.putDependency(TaskDependency(kind: .secret, id: "s", data: [1]))
        dispatcher.store.putTask(
            DispatchedTask(
                id: "t", nodeID: node, status: TaskStatus(state: .running), spec: Array(repeating: 7, count: specBytes),
                secrets: ["s"]))
        let session = try dispatcher.registerNow(node).sessionID
        let agent = AgentModel()
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)
        #expect(agent.held == ["task t", "secret s"])
        return (dispatcher, agent)
    }

    @Test func aLongStatusReportIsNeverTooLargeAndStillReleasesSecrets() throws {
        let (dispatcher, agent) = try runningTaskWithASecret(specBytes: 3900)
        var failed = try #require(dispatcher.store.task("t"))
        failed.status = TaskStatus(state: .failed, error: String(repeating: "e", count: 500))
        dispatcher.store.putTask(failed)
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.held == ["task t"])
        #expect(dispatcher.core.counters.oversizedAssignments == 0)
    }

    /// A held task whose next write is too large to send stays on the node at the version it
    /// got; when it then finishes (still too large), its secret goes: the node reported the end
    /// itself. It stayed on the node until the task was deleted.
    @Test func aTaskLeftOutAsTooLargeStillReleasesItsSecretsWhenItEnds() throws {
        let (dispatcher, agent) = try runningTaskWithASecret(specBytes: 0)
        var task = try #require(dispatcher.store.task("t"))
        task.spec = Array(repeating: 7, count: 8192)
        dispatcher.store.putTask(task)
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.held == ["task t", "secret s"])
        task = try #require(dispatcher.store.task("t"))
        task.status = TaskStatus(state: .complete)
        dispatcher.store.putTask(task)
        dispatcher.advance(by: .milliseconds(100))
        #expect(agent.held == ["task t"])
    }

    @Test func reopeningTheStreamStartsOverWithACompleteSet() throws {
        let (dispatcher, node, session, first) = try fixture()
        dispatcher.store.putTask(DispatchedTask(id: "t", nodeID: node, status: TaskStatus(state: .assigned)))
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, first.receive)
        let second = AgentModel()
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, second.receive)
        #expect(first.finished == .some(nil))
        #expect(second.messages.first?.kind == .complete)
        #expect(second.held == ["task t"])
    }

    @Test func aNewSessionEndsTheOldSessionsStreams() throws {
        var configuration = DispatcherConfiguration()
        configuration.rateLimitPeriod = .zero
        let dispatcher = try startedDispatcher(configuration)
        let node = nodeID("node-a")
        let session = try dispatcher.registerNow(node).sessionID
        let agent = AgentModel()
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)
        _ = try dispatcher.registerNow(node)
        #expect(agent.finished == .some(.sessionInvalid))
        #expect(throws: DispatcherError.sessionInvalid) {
            try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now) { _ in true }
        }
    }
}
