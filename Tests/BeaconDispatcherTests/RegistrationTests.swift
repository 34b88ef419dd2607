import BeaconCore
import Testing

@testable import BeaconDispatcher

/// SwarmKit's registration, heartbeat and leadership tests (§A13 1–7, §A16 3–5), on a manual clock.
@Suite struct RegistrationTests {
    @Test func registeringTwiceIssuesNewSessions() throws {
        var configuration = DispatcherConfiguration()
        configuration.rateLimitPeriod = .zero
        let dispatcher = try startedDispatcher(configuration)
        let first = try dispatcher.registerNow(nodeID("node-a"))
        let second = try dispatcher.registerNow(nodeID("node-a"))
        #expect(first.sessionID != second.sessionID)
        #expect(throws: DispatcherError.sessionInvalid) {
            _ = try dispatcher.core.heartbeat(node: nodeID("node-a"), session: first.sessionID)
        }
        #expect(throws: Never.self) {
            _ = try dispatcher.core.heartbeat(node: nodeID("node-a"), session: second.sessionID)
        }
    }

    @Test func zeroWindowDisablesTheRateLimit() throws {
        var configuration = DispatcherConfiguration()
        configuration.rateLimitPeriod = .zero
        let dispatcher = try startedDispatcher(configuration)
        for _ in 0..<10 { _ = try dispatcher.registerNow(nodeID("node-a")) }
    }

    @Test func aNodeCarriedOverAsUnknownGetsThreeRegistrationsPerWindow() throws {
        let dispatcher = try startedDispatcher()
        for _ in 0..<3 { _ = try dispatcher.registerNow(nodeID("node-a")) }
        let error = dispatcherError { () throws(DispatcherError) in _ = try dispatcher.registerNow(nodeID("node-a")) }
        #expect(error == .rateLimited(node: "node-a", attempts: 3, window: .seconds(8)))
        #expect(error?.description.contains("exceeded rate limit count of registrations") == true)
        // The window slides from the last allowed registration; refused attempts do not extend it.
        dispatcher.advance(by: .seconds(7))
        #expect(throws: DispatcherError.self) { _ = try dispatcher.registerNow(nodeID("node-a")) }
        dispatcher.advance(by: .milliseconds(1_500))
        _ = try dispatcher.registerNow(nodeID("node-a"))
    }

    @Test func aFreshNodeGetsFourRegistrationsPerWindow() throws {
        let dispatcher = try startedDispatcher(nodes: [])
        dispatcher.store.createNode(nodeID("late"))
        for _ in 0..<4 { _ = try dispatcher.registerNow(nodeID("late")) }
        #expect(throws: DispatcherError.rateLimited(node: "late", attempts: 3, window: .seconds(8))) {
            _ = try dispatcher.registerNow(nodeID("late"))
        }
    }

    @Test func resumingAValidSessionSkipsTheRateLimitAndKeepsTheID() throws {
        let dispatcher = try startedDispatcher()
        let session = try dispatcher.registerNow(nodeID("node-a")).sessionID
        for _ in 0..<5 {
            #expect(try dispatcher.registerNow(nodeID("node-a"), resume: session).sessionID == session)
        }
    }

    @Test func aNodeMissingFromTheStoreCannotRegister() throws {
        let dispatcher = try startedDispatcher()
        #expect(throws: DispatcherError.nodeNotFound("ghost")) { _ = try dispatcher.registerNow(nodeID("ghost")) }
    }

    @Test func registrationCompletesWhenTheReadyWriteCommits() throws {
        let dispatcher = try startedDispatcher()
        var result: Result<SessionMessage, DispatcherError>?
        try dispatcher.register(nodeID("node-a"), description: NodeDescription(hostname: "a"), address: "10.1.1.1") {
            result = $0
        }
        #expect(result == nil)
        #expect(dispatcher.store.node(nodeID("node-a"))?.status.state == .unknown)
        dispatcher.advance(by: .milliseconds(99))
        #expect(result == nil)
        dispatcher.advance(by: .milliseconds(1))
        let message = try #require(result).get()
        #expect(message.node.status == NodeStatus(state: .ready, address: "10.1.1.1"))
        #expect(message.node.description?.hostname == "a")
    }

    /// SwarmKit's missed wake-up: a registration queued just after a flush took its batch must wait
    /// for the next flush, and must not be forgotten by it.
    @Test func aRegistrationQueuedAfterABatchWasTakenWaitsForTheNextOne() throws {
        let dispatcher = try startedDispatcher()
        let core = dispatcher.core
        var first: DispatcherError??
        var second: DispatcherError??
        _ = try core.beginRegistration(
            node: nodeID("node-a"), description: nil, address: "", resume: nil, at: dispatcher.now
        ) { first = .some($0) }
        let batch = try #require(core.takeWrites(at: dispatcher.now))
        _ = try core.beginRegistration(
            node: nodeID("node-b"), description: nil, address: "", resume: nil, at: dispatcher.now
        ) { second = .some($0) }
        dispatcher.commit(batch)
        #expect(first == .some(nil))
        #expect(second == nil)
        let next = try #require(core.takeWrites(at: dispatcher.now))
        dispatcher.commit(next)
        #expect(second == .some(nil))
    }

    @Test func aFailedCommitFailsTheRegistration() throws {
        let dispatcher = try startedDispatcher()
        var outcome: DispatcherError??
        _ = try dispatcher.core.beginRegistration(
            node: nodeID("node-a"), description: nil, address: "", resume: nil, at: dispatcher.now
        ) { outcome = .some($0) }
        let batch = try #require(dispatcher.core.takeWrites(at: dispatcher.now))
        dispatcher.commit(batch, error: .storeFailure("disk full"))
        #expect(outcome == .some(.storeFailure("disk full")))
    }

    /// node-a begins registering, its READY write is taken for a flush, and before that flush
    /// reports, every UNKNOWN deadline (node-a's and node-b's) passes.
    private func registrationCommittingPastTheDeadline(
        _ dispatcher: VirtualDispatcher
    ) throws -> (DispatcherCore<ManualClock>.PendingRegistration, DispatcherCore<ManualClock>.WriteBatch) {
        let core = dispatcher.core
        let pending = try core.beginRegistration(
            node: nodeID("node-a"), description: nil, address: "", resume: nil, at: dispatcher.now
        ) { _ in }
        let batch = try #require(core.takeWrites(at: dispatcher.now))
        try dispatcher.clock.advance(to: dispatcher.now.advanced(by: .seconds(60)))
        core.fireTimers(at: dispatcher.now)
        return (pending, batch)
    }

    /// A registration whose READY write is still committing when the node's UNKNOWN deadline
    /// passes: the registration wins, and no DOWN write follows the READY one.
    @Test func aDeadlinePassingWhileTheReadyWriteCommitsDoesNotMarkTheNodeDown() throws {
        let dispatcher = try startedDispatcher()
        let core = dispatcher.core
        let (pending, batch) = try registrationCommittingPastTheDeadline(dispatcher)
        dispatcher.commit(batch)
        let message = try core.completeRegistration(pending, commitError: nil, at: dispatcher.now)
        dispatcher.advance(by: .milliseconds(100))
        #expect(dispatcher.store.node(nodeID("node-a"))?.status.state == .ready)
        #expect(dispatcher.store.node(nodeID("node-b"))?.status.state == .down)
        #expect(core.downCount == 1)
        #expect(throws: Never.self) { _ = try core.heartbeat(node: nodeID("node-a"), session: message.sessionID) }
    }

    /// The same race with a failed commit: the deadline that passed meanwhile takes effect then.
    @Test func aDeadlinePassingWhileAFailingCommitRunsMarksTheNodeDownWhenItFails() throws {
        let dispatcher = try startedDispatcher()
        let core = dispatcher.core
        let (pending, batch) = try registrationCommittingPastTheDeadline(dispatcher)
        #expect(core.downCount == 1)
        dispatcher.commit(batch, error: .storeFailure("disk full"))
        #expect(throws: DispatcherError.storeFailure("disk full")) {
            _ = try core.completeRegistration(pending, commitError: .storeFailure("disk full"), at: dispatcher.now)
        }
        #expect(core.downCount == 2)
        dispatcher.advance(by: .milliseconds(100))
        let node = dispatcher.store.node(nodeID("node-a"))
        #expect(node?.status.state == .down)
        #expect(node?.status.message == "heartbeat failure for node in \"unknown\" state")
    }

    @Test func heartbeatChecksTheSessionAndReturnsAJitteredPeriod() throws {
        let dispatcher = try startedDispatcher()
        let node = nodeID("node-a")
        let session = try dispatcher.registerNow(node).sessionID
        #expect(dispatcher.store.node(node)?.status.state == .ready)
        let forged = try SessionID(String(session.description.prefix(16)) + "00000000000000ff")
        #expect(throws: DispatcherError.sessionInvalid) {
            _ = try dispatcher.core.heartbeat(node: node, session: forged)
        }
        #expect(throws: DispatcherError.sessionInvalid) {
            _ = try dispatcher.core.heartbeat(node: nodeID("node-b"), session: session)
        }
        #expect(throws: DispatcherError.nodeNotRegistered) {
            _ = try dispatcher.core.heartbeat(node: nodeID("ghost"), session: session)
        }
        // The jitter is drawn from the session's secret and the time: a node's heartbeats at
        // different times spread over the whole window, and two nodes beating at the same instant
        // get different periods.
        var periods: Set<Duration> = []
        for _ in 0..<1024 {
            dispatcher.advance(by: .milliseconds(1))
            let period = try dispatcher.core.heartbeat(node: node, session: session)
            #expect(period >= .milliseconds(4_500) && period < .milliseconds(5_500))
            periods.insert(period)
        }
        #expect(periods.count > 1000)
        #expect(periods.contains { $0 < .milliseconds(4_600) } && periods.contains { $0 >= .milliseconds(5_400) })
        let other = try dispatcher.registerNow(nodeID("node-b")).sessionID
        #expect(
            try dispatcher.core.heartbeat(node: nodeID("node-b"), session: other)
                != dispatcher.core.heartbeat(node: node, session: session))
    }

    /// The batch path with and without its prefetching (taken above 65 536 records in use;
    /// forced here by a threshold of 0) answers every heartbeat as a single beat at the same
    /// instant does: refusals included, in order, a node present twice beaten twice.
    @Test func aBatchAnswersEachHeartbeatAsASingleBeat() throws {
        let names = (0..<40).map { "node-\($0)" }
        let dispatcher = try startedDispatcher(nodes: names)
        let nodes = names.map(nodeID)
        let sessions = try nodes.map { try dispatcher.registerNow($0).sessionID }
        var batch = zip(nodes, sessions).map { NodeHeartbeat(nodeID: $0, session: $1) }
        batch.insert(NodeHeartbeat(nodeID: nodeID("ghost"), session: sessions[3]), at: 5)
        batch.insert(NodeHeartbeat(nodeID: nodes[7], session: sessions[8]), at: 30)
        batch.append(batch[0])
        let path = dispatcher.core.path
        for threshold: UInt32 in [0, .max] {
            dispatcher.advance(by: .milliseconds(1))
            var answers: [(position: Int, period: Duration?)] = []
            batch.withUnsafeBufferPointer { heartbeats in
                path.beat(batch: heartbeats, prefetchingFrom: threshold) { answers.append(($0, $1)) }
            }
            #expect(answers.map(\.position) == Array(batch.indices))
            #expect(answers.filter { $0.period == nil }.map(\.position) == [5, 30])
            for (position, period) in answers {
                #expect(period == path.beat(node: batch[position].nodeID, session: batch[position].session))
            }
        }
    }

    /// node-a registered on a dispatcher whose nodes beat every 100 ms, with no jitter, and a
    /// recorder following its session.
    private func recordedSession() throws -> (VirtualDispatcher, NodeID, SessionID, SessionRecorder) {
        var configuration = DispatcherConfiguration()
        configuration.heartbeatPeriod = .milliseconds(100)
        configuration.heartbeatJitter = .zero
        let dispatcher = try startedDispatcher(configuration)
        let node = nodeID("node-a")
        let session = try dispatcher.registerNow(node).sessionID
        let recorder = SessionRecorder()
        try dispatcher.core.attachSessionSink(node: node, session: session, recorder.receive)
        return (dispatcher, node, session, recorder)
    }

    @Test func aNodeThatStopsBeatingGoesDownAndLosesItsSession() throws {
        let (dispatcher, node, session, recorder) = try recordedSession()
        for _ in 0..<10 {
            dispatcher.advance(by: .milliseconds(250))
            _ = try dispatcher.core.heartbeat(node: node, session: session)
        }
        #expect(dispatcher.store.node(node)?.status.state == .ready)
        dispatcher.advance(by: .milliseconds(299))
        #expect(dispatcher.store.node(node)?.status.state == .ready)
        dispatcher.advance(by: .milliseconds(110))
        #expect(dispatcher.store.node(node)?.status == NodeStatus(state: .down, message: "heartbeat failure"))
        #expect(throws: DispatcherError.nodeNotRegistered) {
            _ = try dispatcher.core.heartbeat(node: node, session: session)
        }
        #expect(recorder.messages.last?.node.status.state == .down)
        #expect(recorder.finished == .some(.nodeNotRegistered))
    }

    /// A session whose deadline passes while its node registers again ends without a DOWN
    /// message: the node is not marked DOWN, and its new session follows.
    @Test func aSessionEndingWhileItsNodeRegistersAgainIsNotToldDown() throws {
        let (dispatcher, node, _, recorder) = try recordedSession()
        let pending = try dispatcher.core.beginRegistration(
            node: node, description: nil, address: "", resume: nil, at: dispatcher.now
        ) { _ in }
        let batch = try #require(dispatcher.core.takeWrites(at: dispatcher.now))
        try dispatcher.clock.advance(to: dispatcher.now.advanced(by: .seconds(1)))
        let now = dispatcher.now
        _ = try dispatcher.core.path.wheel.advance(to: now) { dispatcher.core.expire($0, at: now) }
        #expect(recorder.finished == .some(.nodeNotRegistered))
        #expect(recorder.messages.allSatisfy { $0.node.status.state == .ready })
        dispatcher.commit(batch)
        _ = try dispatcher.core.completeRegistration(pending, commitError: nil, at: dispatcher.now)
        #expect(dispatcher.core.liveness(of: node) == .ready)
    }

    @Test func leaderStartMarksNodesUnknownWithDoubleGrace() throws {
        var configuration = DispatcherConfiguration()
        configuration.heartbeatJitter = .zero
        let dispatcher = try startedDispatcher(configuration)
        dispatcher.advance(by: .milliseconds(100))
        let node = try #require(dispatcher.store.node(nodeID("node-a")))
        #expect(
            node.status
                == NodeStatus(
                    state: .unknown, message: "Node moved to \"unknown\" state due to leadership change in cluster"))
        #expect(dispatcher.core.unknownCount == 2)
        // Calls from UNKNOWN nodes need a new session first.
        let made = try SessionID("0000000000000001" + "00000000000000aa")
        #expect(throws: DispatcherError.sessionInvalid) {
            _ = try dispatcher.core.heartbeat(node: nodeID("node-a"), session: made)
        }
        _ = try dispatcher.registerNow(nodeID("node-b"))
        #expect(dispatcher.core.unknownCount == 1)
        dispatcher.advance(to: BeaconInstant(nanoseconds: 1_000_000_000).advanced(by: .milliseconds(29_990)))
        #expect(dispatcher.store.node(nodeID("node-a"))?.status.state == .unknown)
        dispatcher.advance(by: .milliseconds(120))
        #expect(
            dispatcher.store.node(nodeID("node-a"))?.status
                == NodeStatus(state: .down, message: "heartbeat failure for node in \"unknown\" state"))
        #expect(dispatcher.core.unknownCount == 0)
    }

    @Test func downNodesStayDownAndTheirTasksAreOrphanedAfterTheDownPeriod() throws {
        let store = InMemoryDispatcherStore()
        let down = nodeID("down")
        store.createNode(down)
        store.setNodeStatus(down, NodeStatus(state: .down, message: "earlier"))
        for (id, state) in [("running", TaskState.running), ("assigned", .assigned), ("done", .complete)] {
            store.putTask(DispatchedTask(id: id, nodeID: down, status: TaskStatus(state: state)))
        }
        var configuration = DispatcherConfiguration()
        configuration.orphanAfter = .seconds(3600)
        let dispatcher = try VirtualDispatcher(configuration: configuration, store: store)
        try dispatcher.start()
        #expect(dispatcher.core.nodeCount == 0)
        #expect(dispatcher.core.downCount == 1)
        dispatcher.advance(by: .seconds(3599))
        #expect(store.task("running")?.status.state == .running)
        dispatcher.advance(by: .seconds(2))
        #expect(store.task("running")?.status.state == .orphaned)
        #expect(store.task("assigned")?.status.state == .orphaned)
        #expect(store.task("done")?.status.state == .complete)
        #expect(store.node(down)?.status.state == .down)
    }

    @Test func reRegisteringCancelsTheOrphanTimer() throws {
        var configuration = DispatcherConfiguration()
        configuration.orphanAfter = .seconds(60)
        configuration.heartbeatPeriod = .seconds(1)
        configuration.heartbeatJitter = .zero
        let dispatcher = try startedDispatcher(configuration, nodes: ["n"])
        dispatcher.store.putTask(DispatchedTask(id: "t", nodeID: nodeID("n"), status: TaskStatus(state: .running)))
        _ = try dispatcher.registerNow(nodeID("n"))
        dispatcher.advance(by: .seconds(4))
        #expect(dispatcher.store.node(nodeID("n"))?.status.state == .down)
        _ = try dispatcher.registerNow(nodeID("n"))
        dispatcher.advance(by: .seconds(61))
        #expect(dispatcher.store.task("t")?.status.state == .running)
    }

    /// SwarmKit PR 2091: deadlines from an earlier term must not fire in a later one.
    @Test func timersFromAnEarlierTermNeverFire() throws {
        var configuration = DispatcherConfiguration()
        configuration.heartbeatJitter = .zero
        let dispatcher = try startedDispatcher(configuration, nodes: ["n"])
        _ = try dispatcher.registerNow(nodeID("n"))
        dispatcher.advance(by: .seconds(10))
        dispatcher.stop()
        dispatcher.advance(by: .seconds(1))
        try dispatcher.start()
        // The first term's deadline (about 15 s after registering) passes; the new term's UNKNOWN
        // grace (30 s from its start) does not.
        dispatcher.advance(by: .seconds(20))
        #expect(dispatcher.store.node(nodeID("n"))?.status.state == .unknown)
        #expect(dispatcher.core.counters.expiries == 0)
    }

    @Test func stopEndsStreamsWithADisconnectMessageAndLaterCallsFail() throws {
        let dispatcher = try startedDispatcher()
        let node = nodeID("node-a")
        let session = try dispatcher.registerNow(node).sessionID
        let recorder = SessionRecorder()
        try dispatcher.core.attachSessionSink(node: node, session: session, recorder.receive)
        let agent = AgentModel()
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)
        var waiting: Result<SessionMessage, DispatcherError>?
        try dispatcher.register(nodeID("node-b")) { waiting = $0 }
        dispatcher.stop()
        #expect(recorder.messages.last?.disconnect == true)
        #expect(recorder.finished == .some(nil))
        #expect(agent.finished == .some(.stopped))
        #expect(waiting.map { (try? $0.get()) == nil } == true)
        #expect(throws: DispatcherError.stopped) { _ = try dispatcher.core.heartbeat(node: node, session: session) }
        #expect(throws: DispatcherError.stopped) { _ = try dispatcher.registerNow(node) }
        #expect(throws: DispatcherError.stopped) {
            try dispatcher.core.updateTaskStatus(node: node, session: session, [])
        }
        #expect(throws: DispatcherError.alreadyRunning) {
            try dispatcher.start()
            try dispatcher.start()
        }
    }

    /// A started dispatcher with room for two nodes, and nodes "a", "b" and "c" created after its
    /// start (new nodes, not carried over as UNKNOWN).
    private func twoPlaceDispatcher() throws -> VirtualDispatcher {
        var configuration = DispatcherConfiguration()
        configuration.maximumNodes = 2
        let dispatcher = try startedDispatcher(configuration, nodes: [])
        for name in ["a", "b", "c"] { dispatcher.store.createNode(nodeID(name)) }
        return dispatcher
    }

    /// Registers "b" and then "c" in one batch, flushes it, and returns how each ended.
    private func registerTogether(_ dispatcher: VirtualDispatcher) throws
        -> [String: Result<SessionMessage, DispatcherError>]
    {
        var results: [String: Result<SessionMessage, DispatcherError>] = [:]
        try dispatcher.register(nodeID("b")) { results["b"] = $0 }
        try dispatcher.register(nodeID("c")) { results["c"] = $0 }
        dispatcher.advance(by: dispatcher.core.configuration.statusBatchInterval)
        return results
    }

    @Test func theNodeTableHasACapacity() throws {
        let dispatcher = try twoPlaceDispatcher()
        _ = try dispatcher.registerNow(nodeID("a"))
        _ = try dispatcher.registerNow(nodeID("b"))
        let before = dispatcher.store.node(nodeID("c"))
        #expect(throws: DispatcherError.capacityExhausted(2)) { _ = try dispatcher.registerNow(nodeID("c")) }
        // Refused before its READY write: the record is as it was, not READY with no session.
        #expect(dispatcher.store.node(nodeID("c")) == before)
    }

    /// A node that registers again while the wheel has no record to spare (the one its last
    /// session held is recycled only once its old deadline passes) is refused, and keeps the
    /// session it had: before, that session was ended first and the node written DOWN.
    @Test func aLiveNodeWhoseRegistrationFindsNoRecordKeepsItsSession() throws {
        var configuration = DispatcherConfiguration()
        configuration.maximumNodes = 1
        configuration.rateLimitPeriod = .zero
        let dispatcher = try startedDispatcher(configuration, nodes: [])
        let node = nodeID("a")
        dispatcher.store.createNode(node)
        var session = try dispatcher.registerNow(node).sessionID
        var refused = false
        for _ in 0..<16 where !refused {
            do {
                session = try dispatcher.registerNow(node).sessionID
            } catch {
                #expect(error == .capacityExhausted(1))
                refused = true
            }
        }
        try #require(refused, "the wheel never ran out of records")
        _ = try dispatcher.heartbeat(node: node, session: session)
        dispatcher.advance(by: configuration.statusBatchInterval)
        #expect(dispatcher.store.node(node)?.status.state == .ready)
        #expect(dispatcher.core.liveness(of: node) == .ready)
    }

    /// `maximumNodes` counts the nodes carried over as UNKNOWN: new nodes cannot take the places
    /// those will need when they register.
    @Test func unknownNodesCountAgainstTheTable() throws {
        var configuration = DispatcherConfiguration()
        configuration.maximumNodes = 2
        let dispatcher = try startedDispatcher(configuration, nodes: ["a", "b"])
        dispatcher.store.createNode(nodeID("c"))
        let before = dispatcher.store.node(nodeID("c"))
        #expect(throws: DispatcherError.capacityExhausted(2)) { _ = try dispatcher.registerNow(nodeID("c")) }
        // Refused before its READY write, as any registration beyond the table.
        #expect(dispatcher.store.node(nodeID("c")) == before)
        _ = try dispatcher.registerNow(nodeID("a"))
        _ = try dispatcher.registerNow(nodeID("b"))
    }

    /// A store holding more live nodes than the table takes still starts a term: it used to
    /// refuse, and every manager configured alike refused with it, leaving the cluster with no
    /// dispatcher at all (a server that admits any node creates records for nodes it then refuses
    /// for capacity, so a full fleet got there at its next leader change). All are UNKNOWN; the
    /// first to register fill the table, the rest are refused until a place frees, and an UNKNOWN
    /// node that never comes back is DOWN at its deadline as always.
    @Test func aStoreWithMoreLiveNodesThanTheTableStillStartsATerm() throws {
        var configuration = DispatcherConfiguration()
        configuration.maximumNodes = 2
        configuration.heartbeatJitter = .zero
        let dispatcher = try startedDispatcher(configuration, nodes: ["a", "b", "c"])
        #expect(dispatcher.core.nodeCount == 3)
        #expect(dispatcher.core.unknownCount == 3)
        dispatcher.advance(by: configuration.statusBatchInterval)
        let a = try dispatcher.registerNow(nodeID("a")).sessionID
        _ = try dispatcher.registerNow(nodeID("b"))
        let before = dispatcher.store.node(nodeID("c"))
        #expect(throws: DispatcherError.capacityExhausted(2)) { _ = try dispatcher.registerNow(nodeID("c")) }
        #expect(dispatcher.store.node(nodeID("c")) == before)
        dispatcher.store.createNode(nodeID("d"))
        #expect(throws: DispatcherError.capacityExhausted(2)) { _ = try dispatcher.registerNow(nodeID("d")) }

        // "b" goes silent and "c" never came back: both DOWN at their deadlines, while "a" beats.
        for _ in 0..<40 {
            dispatcher.advance(by: .seconds(1))
            _ = try dispatcher.heartbeat(node: nodeID("a"), session: a)
        }
        #expect(dispatcher.core.liveness(of: nodeID("b")) == .down)
        #expect(dispatcher.core.liveness(of: nodeID("c")) == .down)
        #expect(dispatcher.store.node(nodeID("c"))?.status.state == .down)
        // A place is free again, for any node; then the table is full.
        #expect(dispatcher.core.nodeCount == 1)
        _ = try dispatcher.registerNow(nodeID("d"))
        #expect(throws: DispatcherError.capacityExhausted(2)) { _ = try dispatcher.registerNow(nodeID("c")) }
    }

    /// UNKNOWN nodes past the table that all register in one batch pass the first check together;
    /// the one that finds the sessions full after its READY committed gets no session, and is
    /// written UNKNOWN again (not left READY with no session), to be DOWN at its deadline.
    @Test func unknownNodesRegisteringTogetherPastTheTableStayUnknown() throws {
        var configuration = DispatcherConfiguration()
        configuration.maximumNodes = 2
        configuration.heartbeatJitter = .zero
        let dispatcher = try startedDispatcher(configuration, nodes: ["a", "b", "c"])
        dispatcher.advance(by: configuration.statusBatchInterval)
        var results: [String: Result<SessionMessage, DispatcherError>] = [:]
        for name in ["a", "b", "c"] { try dispatcher.register(nodeID(name)) { results[name] = $0 } }
        dispatcher.advance(by: configuration.statusBatchInterval)
        let a = try #require(try results["a"]?.get().sessionID)
        let b = try #require(try results["b"]?.get().sessionID)
        #expect(throws: DispatcherError.capacityExhausted(2)) { try results["c"]?.get() }
        #expect(dispatcher.core.nodeCount - dispatcher.core.unknownCount == 2)
        #expect(dispatcher.core.liveness(of: nodeID("c")) == .unknown)
        dispatcher.advance(by: configuration.statusBatchInterval)
        #expect(dispatcher.store.node(nodeID("c"))?.status.state == .unknown)

        for _ in 0..<35 {
            dispatcher.advance(by: .seconds(1))
            _ = try dispatcher.heartbeat(node: nodeID("a"), session: a)
            _ = try dispatcher.heartbeat(node: nodeID("b"), session: b)
        }
        #expect(dispatcher.core.liveness(of: nodeID("c")) == .down)
        #expect(dispatcher.store.node(nodeID("c"))?.status.state == .down)
    }

    /// A node with no session and no UNKNOWN deadline is limited by its registrations in flight:
    /// calls made together cannot each take a session within one window.
    @Test func registrationsOfANewNodeMadeTogetherAreRateLimited() throws {
        let dispatcher = try startedDispatcher(nodes: [])
        let node = nodeID("late")
        dispatcher.store.createNode(node)
        for _ in 0..<3 { try dispatcher.register(node) { _ in } }
        #expect(throws: DispatcherError.rateLimited(node: "late", attempts: 3, window: .seconds(8))) {
            try dispatcher.register(node) { _ in }
        }
    }

    /// Two new nodes registering together for the last place both pass the first check; the
    /// second finds the table full only after its READY committed. It is then DOWN, with an
    /// orphan timer, instead of READY with nothing watching it.
    @Test func aRegistrationThatOverfillsTheTableLeavesItsNodeDown() throws {
        let dispatcher = try twoPlaceDispatcher()
        _ = try dispatcher.registerNow(nodeID("a"))
        let results = try registerTogether(dispatcher)
        #expect((try? results["b"]?.get()) != nil)
        #expect(throws: DispatcherError.capacityExhausted(2)) { try results["c"]?.get() }
        dispatcher.advance(by: dispatcher.core.configuration.statusBatchInterval)
        let record = try #require(dispatcher.store.node(nodeID("c")))
        #expect(record.status.state == .down)
        #expect(record.status.message == DispatcherCore<ManualClock>.registrationFailureMessage)
        #expect(dispatcher.core.downCount == 1)
    }

    /// A DOWN node whose READY committed but which got no session is DOWN again in the store.
    @Test func aDownNodeWhoseRegistrationFailsAfterItsWriteIsDownAgain() throws {
        let dispatcher = try twoPlaceDispatcher()
        _ = try dispatcher.registerNow(nodeID("a"))
        _ = try dispatcher.registerNow(nodeID("c"))
        // "c" goes silent and is marked DOWN; "b" and "c" then race for the place "c" left.
        dispatcher.advance(by: .seconds(60))
        #expect(dispatcher.store.node(nodeID("c"))?.status.state == .down)
        _ = try dispatcher.registerNow(nodeID("a"))
        let results = try registerTogether(dispatcher)
        #expect(throws: DispatcherError.capacityExhausted(2)) { try results["c"]?.get() }
        dispatcher.advance(by: dispatcher.core.configuration.statusBatchInterval)
        #expect(dispatcher.store.node(nodeID("c"))?.status.state == .down)
        #expect(dispatcher.core.liveness(of: nodeID("c")) == .down)
    }

    @Test func adaptiveDeadlinesOnlyEverExtendTheFixedOne() throws {
        var configuration = DispatcherConfiguration()
        configuration.heartbeatJitter = .zero
        configuration.adaptiveTTL = try AdaptiveTTLEstimator.Configuration(
            initialTTL: HeartbeatTTL(.seconds(20)), minimumTTL: HeartbeatTTL(.seconds(1)),
            maximumTTL: HeartbeatTTL(.seconds(60)))
        let dispatcher = try startedDispatcher(configuration, nodes: ["n"])
        let session = try dispatcher.registerNow(nodeID("n")).sessionID
        // Irregular beats: 1 s, then 9 s gaps. The fixed deadline is 15 s.
        for gap in [1, 9, 1, 9, 1, 9, 1, 9] {
            dispatcher.advance(by: .seconds(Int64(gap)))
            _ = try dispatcher.core.heartbeat(node: nodeID("n"), session: session)
        }
        dispatcher.advance(by: .seconds(16))
        #expect(dispatcher.store.node(nodeID("n"))?.status.state == .ready)
        dispatcher.advance(by: .seconds(60))
        #expect(dispatcher.store.node(nodeID("n"))?.status.state == .down)
    }
}
