import BeaconCore
import Testing

@testable import BeaconDispatcher

/// A dispatcher that holds one shard: it serves only its nodes, sends the others to their owner,
/// and on a shard change lets go of what moved away and takes over what moved in as a new leader
/// would — and only that.
@Suite struct ShardedDispatcherCoreTests {
    static let (me, other) = (
        WeightedManager(nodeID: "m1", address: "10.0.0.1:4242"), WeightedManager(nodeID: "m2", address: "10.0.0.2:4242")
    )
    static let names = (0..<40).map { "node-\($0)" }

    static func configuration() -> DispatcherConfiguration {
        var configuration = DispatcherConfiguration()
        configuration.heartbeatPeriod = .seconds(1)
        configuration.heartbeatJitter = .zero
        configuration.rateLimitPeriod = .zero
        return configuration
    }

    /// A dispatcher for `me` over a store of `names`, sharded before it starts.
    static func shardedDispatcher(_ table: ShardTable) throws -> VirtualDispatcher {
        let store = InMemoryDispatcherStore()
        store.createNodes(names.map(nodeID))
        let dispatcher = try VirtualDispatcher(configuration: configuration(), store: store)
        dispatcher.updateShard(DispatcherShard(table: table, manager: me.nodeID))
        try dispatcher.start()
        return dispatcher
    }

    /// A dispatcher whose shard is every node, past its first flush (the UNKNOWN writes of its
    /// start are out); its table, and the first node.
    static func aloneAfterItsFirstFlush() throws -> (VirtualDispatcher, ShardTable, NodeID) {
        let alone = try ShardTable(managers: [me])
        let dispatcher = try shardedDispatcher(alone)
        dispatcher.advance(by: dispatcher.core.configuration.statusBatchInterval)
        return (dispatcher, alone, nodeID(names[0]))
    }

    @Test func itServesItsOwnNodesAndSendsTheOthersToTheirOwner() throws {
        let table = try ShardTable(managers: [Self.me, Self.other])
        let dispatcher = try Self.shardedDispatcher(table)
        let mine = Self.names.map(nodeID).filter { table.owner(of: $0) == Self.me }
        let theirs = Self.names.map(nodeID).filter { table.owner(of: $0) == Self.other }
        #expect(!mine.isEmpty && !theirs.isEmpty)
        // The term starts with only its own nodes UNKNOWN.
        #expect(dispatcher.core.unknownCount == mine.count)
        #expect(theirs.allSatisfy { dispatcher.core.liveness(of: $0) == nil })

        let session = try dispatcher.registerNow(mine[0])
        #expect(session.managers.first == Self.me)
        #expect(Set(session.managers) == [Self.me, Self.other])
        #expect(
            dispatcherError { () throws(DispatcherError) in _ = try dispatcher.registerNow(theirs[0]) }
                == .wrongManager(node: theirs[0].rawValue, owner: Self.other))
        #expect(
            dispatcherError { () throws(DispatcherError) in
                _ = try dispatcher.heartbeat(node: theirs[0], session: session.sessionID)
            }
                == .wrongManager(node: theirs[0].rawValue, owner: Self.other))
        // Past every grace, only its own nodes are DOWN; the others' store records are untouched.
        dispatcher.advance(by: .seconds(60))
        for node in theirs { #expect(dispatcher.store.node(node)?.status.state == .unknown) }
        #expect(dispatcher.store.node(mine[1])?.status.state == .down)
    }

    @Test func aShardChangeEndsTheSessionsThatMovedAwayAndAdoptsOnlyWhatMovedIn() throws {
        let alone = try ShardTable(managers: [Self.me])
        let dispatcher = try Self.shardedDispatcher(alone)
        let nodes = Self.names.map(nodeID)
        var sessions: [NodeID: SessionID] = [:]
        var recorders: [NodeID: SessionRecorder] = [:]
        // All in one flush, so none waits past its grace for the others.
        for node in nodes {
            try dispatcher.register(node) { result in
                guard case .success(let session) = result else { return }
                sessions[node] = session.sessionID
                let recorder = SessionRecorder()
                try? dispatcher.core.attachSessionSink(node: node, session: session.sessionID, recorder.receive)
                recorders[node] = recorder
            }
        }
        dispatcher.advance(by: dispatcher.core.configuration.statusBatchInterval)
        #expect(sessions.count == nodes.count)
        #expect(dispatcher.core.unknownCount == 0)

        // m2 joins: what it takes leaves m1 with a last message naming m2 first.
        let shared = try alone.following([Self.me, Self.other])
        let change = dispatcher.updateShard(DispatcherShard(table: shared, manager: Self.me.nodeID))
        let moved = nodes.filter { shared.owner(of: $0) == Self.other }
        let kept = nodes.filter { shared.owner(of: $0) == Self.me }
        #expect(change == .init(sessionsEnded: moved.count, timersDropped: 0, adopted: 0))
        for node in moved {
            let recorder = try #require(recorders[node])
            #expect(recorder.messages.last?.disconnect == true)
            #expect(recorder.messages.last?.managers.first == Self.other)
            #expect(recorder.finished == .some(.wrongManager(node: node.rawValue, owner: Self.other)))
            #expect(
                dispatcherError { () throws(DispatcherError) in
                    _ = try dispatcher.heartbeat(node: node, session: sessions[node]!)
                }
                    == .wrongManager(node: node.rawValue, owner: Self.other))
        }
        for node in kept {
            #expect(recorders[node]?.messages.last?.managers == [Self.me, Self.other])
            #expect(recorders[node]?.finished == nil)
        }
        // The kept nodes beat; the moved ones beat elsewhere. Nothing that moved is DOWN here.
        for _ in 0..<10 {
            for node in kept { _ = try dispatcher.heartbeat(node: node, session: sessions[node]!) }
            dispatcher.advance(by: .seconds(1))
        }
        for node in nodes { #expect(dispatcher.store.node(node)?.status.state == .ready) }

        // m2 leaves again: m1 takes its nodes over as UNKNOWN, with twice the grace, and only them.
        let back = dispatcher.updateShard(DispatcherShard(table: alone, manager: Self.me.nodeID))
        #expect(back == .init(sessionsEnded: 0, timersDropped: 0, adopted: moved.count))
        dispatcher.advance(by: dispatcher.core.configuration.statusBatchInterval)
        for node in moved { #expect(dispatcher.store.node(node)?.status.state == .unknown) }
        for node in kept { #expect(dispatcher.core.liveness(of: node) == .ready) }
        // One of them comes back; the rest stay silent past the doubled grace (6 s) and go DOWN.
        sessions[moved[0]] = try dispatcher.registerNow(moved[0]).sessionID
        for _ in 0..<7 {
            for node in kept + [moved[0]] { _ = try dispatcher.heartbeat(node: node, session: sessions[node]!) }
            dispatcher.advance(by: .seconds(1))
        }
        #expect(dispatcher.store.node(moved[0])?.status.state == .ready)
        for node in moved.dropFirst() { #expect(dispatcher.store.node(node)?.status.state == .down) }
        for node in kept { #expect(dispatcher.store.node(node)?.status.state == .ready) }
    }

    @Test func aManagerMissingFromTheTableHoldsNothingAndDecidesNothing() throws {
        let alone = try ShardTable(managers: [Self.me])
        let dispatcher = try Self.shardedDispatcher(alone)
        let node = nodeID(Self.names[0])
        _ = try dispatcher.registerNow(node)
        dispatcher.advance(by: .seconds(10))
        #expect(dispatcher.store.node(node)?.status.state == .down)
        // Its lease ended: the others' table no longer names it.
        let others = try ShardTable(managers: [Self.other])
        let change = dispatcher.updateShard(DispatcherShard(table: others, manager: Self.me.nodeID))
        #expect(change.timersDropped == Self.names.count)
        #expect(dispatcher.core.nodeCount == 0 && dispatcher.core.downCount == 0)
        #expect(
            dispatcherError { () throws(DispatcherError) in _ = try dispatcher.registerNow(node) }
                == .wrongManager(node: node.rawValue, owner: Self.other))
        // No orphan timer fires here for a node it no longer holds.
        dispatcher.advance(by: .seconds(3600))
        #expect(dispatcher.core.counters.orphaned == 0)
    }

    @Test func whatItQueuedForANodeThatMovedAwayIsNotWritten() throws {
        let alone = try ShardTable(managers: [Self.me])
        let dispatcher = try Self.shardedDispatcher(alone)
        let interval = dispatcher.core.configuration.statusBatchInterval
        dispatcher.advance(by: interval)
        let half = try alone.following([Self.me, Self.other])
        let moved = Self.names.map(nodeID).filter { half.owner(of: $0) == Self.other }
        #expect(moved.count > 2)
        // One node that will move reports a task status; the others' READY writes are queued.
        let session = try dispatcher.registerNow(moved[0])
        dispatcher.store.putTask(DispatchedTask(id: "t1", nodeID: moved[0], status: TaskStatus(state: .assigned)))
        try dispatcher.core.updateTaskStatus(
            node: moved[0], session: session.sessionID,
            [TaskStatusUpdate(taskID: "t1", status: TaskStatus(state: .running))])
        var refused = 0
        for node in moved.dropFirst() {
            try dispatcher.register(node) { result in
                if case .failure(.wrongManager) = result { refused += 1 }
            }
        }
        dispatcher.updateShard(DispatcherShard(table: half, manager: Self.me.nodeID))
        dispatcher.advance(by: .seconds(60))
        // The READY writes of nodes another manager holds now never went out; the task status
        // the node reported while held here did.
        #expect(refused == moved.count - 1)
        for node in moved.dropFirst() { #expect(dispatcher.store.node(node)?.status.state == .unknown) }
        #expect(dispatcher.store.task("t1")?.status.state == .running)
    }

    /// A node that moves away and back while its registration is in flight lost its READY write
    /// on the way: that registration must not issue a session (the store would show the node
    /// UNKNOWN while it beats); the node's next one goes through.
    @Test func aRegistrationWhoseNodeMovedAwayAndBackAsksAgain() throws {
        let (dispatcher, alone, node) = try Self.aloneAfterItsFirstFlush()
        var result: Result<SessionMessage, DispatcherError>?
        try dispatcher.register(node) { result = $0 }
        dispatcher.updateShard(DispatcherShard(table: try ShardTable(managers: [Self.other]), manager: Self.me.nodeID))
        dispatcher.updateShard(DispatcherShard(table: alone, manager: Self.me.nodeID))
        dispatcher.advance(by: dispatcher.core.configuration.statusBatchInterval)
        guard case .failure(let error)? = result else {
            Issue.record("the registration did not fail: \(String(describing: result))")
            return
        }
        #expect(error == .sessionInvalid)
        _ = try dispatcher.registerNow(node)
        #expect(dispatcher.store.node(node)?.status.state == .ready)
    }

    @Test func aRegistrationInFlightWhenItsNodeMovesIsRefusedAndNotMarkedDown() throws {
        let alone = try ShardTable(managers: [Self.me])
        let dispatcher = try Self.shardedDispatcher(alone)
        let node = nodeID(Self.names[0])
        var result: Result<SessionMessage, DispatcherError>?
        try dispatcher.register(node) { result = $0 }
        let others = try ShardTable(managers: [Self.other])
        dispatcher.updateShard(DispatcherShard(table: others, manager: Self.me.nodeID))
        dispatcher.advance(by: .seconds(60))
        guard case .failure(let error)? = result else {
            Issue.record("the registration did not fail: \(String(describing: result))")
            return
        }
        #expect(error == .wrongManager(node: node.rawValue, owner: Self.other))
        #expect(dispatcher.core.counters.expiries == 0)
        #expect(dispatcher.store.node(node)?.status.state != .down)
    }

    /// A status from a manager that held the node before (its batch already on the way when the
    /// shard changed) lands over the owner's: the owner, which holds the session, writes its own
    /// again. A node of another manager's shard is left as the store shows it.
    @Test func aStaleManagersStatusOverTheOwnersIsWrittenBack() throws {
        let table = try ShardTable(managers: [Self.me, Self.other])
        let dispatcher = try Self.shardedDispatcher(table)
        let nodes = Self.names.map(nodeID)
        let mine = try #require(nodes.first { table.owner(of: $0) == Self.me })
        let theirs = try #require(nodes.first { table.owner(of: $0) == Self.other })
        _ = try dispatcher.registerNow(mine, description: NodeDescription(hostname: "mine"))
        #expect(dispatcher.store.node(mine)?.status.state == .ready)

        let stale = NodeStatus(state: .unknown, message: "written by the manager that held it before")
        dispatcher.store.apply([
            .nodeStatus(mine, stale, description: nil), .nodeStatus(theirs, stale, description: nil),
        ])
        #expect(dispatcher.core.pendingWriteCount == 1)
        dispatcher.advance(by: dispatcher.core.configuration.statusBatchInterval)
        #expect(dispatcher.store.node(mine)?.status.state == .ready)
        #expect(dispatcher.store.node(mine)?.description?.hostname == "mine")
        #expect(dispatcher.store.node(theirs)?.status == stale)
        // Once the store agrees, nothing more is written.
        #expect(dispatcher.core.pendingWriteCount == 0)
    }

    /// The owner's READY commits, but the store dropped it as overtaken by a stale manager's
    /// UNKNOWN that landed first (`CoordinatedDispatcherStore`): no store event tells the owner,
    /// so the registration's end reads the record and writes READY again.
    @Test func aReadyTheStoreDroppedAsOvertakenIsWrittenAgain() throws {
        let (dispatcher, _, node) = try Self.aloneAfterItsFirstFlush()
        var result: Result<SessionMessage, DispatcherError>?
        try dispatcher.register(node, description: NodeDescription(hostname: "renamed"), address: "10.0.0.9") {
            result = $0
        }
        let batch = try #require(dispatcher.core.takeWrites(at: dispatcher.now))
        #expect(batch.writes.contains { if case .nodeStatus(node, _, _) = $0 { true } else { false } })
        // Another manager's UNKNOWN lands; the batch is reported committed without its READY.
        dispatcher.store.apply([.nodeStatus(node, NodeStatus(state: .unknown, message: "stale"), description: nil)])
        dispatcher.core.writesCommitted(batch, error: nil)
        dispatcher.core.takeDeferredCalls().perform()
        _ = try #require(result).get()
        #expect(dispatcher.store.node(node)?.status.state == .unknown)
        dispatcher.advance(by: dispatcher.core.configuration.statusBatchInterval)
        let record = try #require(dispatcher.store.node(node))
        #expect(record.status.state == .ready)
        #expect(record.status.address == "10.0.0.9")
        #expect(record.description?.hostname == "renamed")
    }

    /// DOWN is the owner's verdict too: a stale READY over it is answered with DOWN.
    @Test func aStaleStatusOverADownNodeIsAnsweredWithDown() throws {
        let alone = try ShardTable(managers: [Self.me])
        let dispatcher = try Self.shardedDispatcher(alone)
        let node = nodeID(Self.names[0])
        // Never registers: DOWN once its doubled grace passed.
        dispatcher.advance(by: .seconds(60))
        #expect(dispatcher.store.node(node)?.status.state == .down)
        dispatcher.store.apply([.nodeStatus(node, NodeStatus(state: .ready), description: nil)])
        dispatcher.advance(by: dispatcher.core.configuration.statusBatchInterval)
        #expect(dispatcher.store.node(node)?.status.state == .down)
    }

    /// A node taken over as DOWN, which the manager that held it before then writes READY (a
    /// registration it committed after the change), is alive: it is taken over again as UNKNOWN
    /// rather than written DOWN over a live node, and is DOWN at the doubled grace only if it
    /// never registers here. A DOWN this manager decided itself stays its verdict
    /// (``aStaleStatusOverADownNodeIsAnsweredWithDown``).
    @Test func aNodeTakenOverAsDownThatItsFormerManagerWritesReadyIsUnknownNotDown() throws {
        let shared = try ShardTable(managers: [Self.me, Self.other])
        let store = InMemoryDispatcherStore()
        let nodes = Self.names.map(nodeID)
        store.createNodes(nodes)
        let theirs = nodes.filter { shared.owner(of: $0) == Self.other }
        store.apply(theirs.map { .nodeStatus($0, NodeStatus(state: .down), description: nil) })
        let dispatcher = try VirtualDispatcher(configuration: Self.configuration(), store: store)
        dispatcher.updateShard(DispatcherShard(table: shared, manager: Self.me.nodeID))
        try dispatcher.start()
        dispatcher.updateShard(DispatcherShard(table: try shared.following([Self.me]), manager: Self.me.nodeID))
        #expect(theirs.allSatisfy { dispatcher.core.liveness(of: $0) == .down })

        let (registers, silent) = (theirs[0], theirs[1])
        store.apply([
            .nodeStatus(registers, NodeStatus(state: .ready, address: "10.0.0.7"), description: nil),
            .nodeStatus(silent, NodeStatus(state: .ready, address: "10.0.0.8"), description: nil),
        ])
        dispatcher.advance(by: dispatcher.core.configuration.statusBatchInterval)
        for node in [registers, silent] {
            #expect(dispatcher.core.liveness(of: node) == .unknown)
            #expect(store.node(node)?.status.state == .unknown)
        }
        #expect(dispatcher.core.liveness(of: theirs[2]) == .down)
        let session = try dispatcher.registerNow(registers)
        for _ in 0..<10 {
            _ = try dispatcher.heartbeat(node: registers, session: session.sessionID)
            dispatcher.advance(by: .seconds(1))
        }
        #expect(store.node(registers)?.status.state == .ready)
        #expect(store.node(silent)?.status.state == .down)
    }

    /// The table and the records are two watches: a node the table gave this manager whose
    /// record arrives after the change (written READY by the manager that held it) is taken
    /// over then, and DOWN at the doubled grace if it never registers here, instead of staying
    /// READY with no manager.
    @Test func aNodeWhoseRecordArrivesAfterTheTableIsTakenOverThen() throws {
        let (dispatcher, _, _) = try Self.aloneAfterItsFirstFlush()
        let late = nodeID("late")
        dispatcher.store.createNodes([late])
        // A new node's record is no sign of life: it is created just before the node registers.
        #expect(dispatcher.core.liveness(of: late) == nil)
        dispatcher.store.apply([.nodeStatus(late, NodeStatus(state: .ready, address: "10.0.0.9"), description: nil)])
        #expect(dispatcher.core.liveness(of: late) == .unknown)
        dispatcher.advance(by: .seconds(60))
        #expect(dispatcher.store.node(late)?.status.state == .down)
    }

    /// Without a shard a leader is fenced on the group's choice, yet not its records' only
    /// writer over time: a leader whose view of the group stalled serves on while another
    /// manager is chosen and writes its nodes UNKNOWN, and when the choice comes back to it
    /// nothing restarts its term. It answers such a write with its own state (which its fence
    /// holds back while the other leads); it used to leave it, and its live nodes stayed UNKNOWN
    /// in the records while it held their sessions.
    @Test func anUnshardedDispatcherAnswersAnotherLeadersWriteWithItsOwnState() throws {
        let store = InMemoryDispatcherStore()
        let node = nodeID(Self.names[0])
        store.createNodes([node])
        let dispatcher = try VirtualDispatcher(configuration: Self.configuration(), store: store)
        try dispatcher.start()
        dispatcher.advance(by: dispatcher.core.configuration.statusBatchInterval)
        let session = try dispatcher.registerNow(node)
        store.apply([
            .nodeStatus(node, NodeStatus(state: .unknown, message: "another leader's term"), description: nil)
        ])
        _ = try dispatcher.heartbeat(node: node, session: session.sessionID)
        dispatcher.advance(by: dispatcher.core.configuration.statusBatchInterval)
        #expect(store.node(node)?.status.state == .ready)
    }
}
