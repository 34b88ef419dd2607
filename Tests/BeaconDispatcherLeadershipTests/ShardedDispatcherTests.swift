import BeaconCoordination
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherCoordination
import BeaconDispatcherLeadership
import BeaconPrimitives
import Testing

/// Several managers sharing the nodes through one coordination store, on one manual clock: each
/// serves only its shard, a manager that stops answering loses its nodes to the others once its
/// lease ends, and what it decided while paused never reaches the store.
@Suite(.timeLimit(.minutes(2))) struct ShardedDispatcherTests {
    typealias Event = ShardedDispatcher<ManualClock>.Event

    /// One manager: its view of the store (which a test can pause), records, dispatcher and run.
    final class Manager: Sendable {
        let id: String
        let partition: Partition
        let records: CoordinatedDispatcherStore
        let dispatcher: Dispatcher<ManualClock>
        let sharded: ShardedDispatcher<ManualClock>
        let events = PosixMutex<[Event]>([])
        let running: Task<Void, any Error>
        /// Whether its agents can reach it (false while the test pauses it).
        let reachable = PosixMutex(true)

        init(_ id: String, on coordination: InMemoryCoordinationStore, clock: ManualClock) async throws {
            self.id = id
            partition = Partition(coordination)
            var configuration = DispatcherConfiguration()
            configuration.heartbeatPeriod = .seconds(1)
            configuration.heartbeatJitter = .zero
            configuration.rateLimitPeriod = .zero
            records = try await CoordinatedDispatcherStore.open(on: partition, prefix: "/records/")
            dispatcher = try Dispatcher(configuration: configuration, clock: clock, store: records)
            let events = events
            sharded = ShardedDispatcher(
                dispatcher: dispatcher, records: records, store: partition, root: "/managers/",
                manager: WeightedManager(nodeID: id, address: "\(id):4242"), leaseTTL: .seconds(6)
            ) { event in events.withLock { $0.append(event) } }
            running = Task { [sharded] in try await sharded.run() }
        }

        func shutDown() async throws {
            running.cancel()
            try await running.value
            await records.close()
        }
    }

    /// Three managers, the nodes, and agents that beat their manager and follow where they are
    /// sent, stepped in virtual time.
    final class Deployment: @unchecked Sendable {
        // Unchecked: the test's task alone touches everything but `registered`.
        let clock = ManualClock()
        let coordination: InMemoryCoordinationStore
        let orchestrator: CoordinatedDispatcherStore
        var managers: [Manager] = []
        let nodes: [NodeID]
        var sessions: [NodeID: (manager: Manager, session: SessionID)] = [:]
        var registering: Set<NodeID> = []
        /// A registration that came back: the session, or nil when it was refused.
        struct Registration: Sendable {
            let manager: Manager
            let session: SessionID?
        }
        let registered = PosixMutex<[NodeID: Registration]>([:])
        /// Every DOWN the store saw, in order.
        let downs = PosixMutex<[NodeID]>([])
        private var downWatch: StoreWatch?

        init(nodes count: Int) async throws {
            coordination = InMemoryCoordinationStore(clock: clock)
            orchestrator = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/records/")
            nodes = (0..<count).map { try! NodeID("node-\($0)") }
            _ = try await orchestrator.createNodes(nodes)
            for node in nodes {
                _ = try await orchestrator.putTask(
                    DispatchedTask(id: "task-\(node)", nodeID: node, status: TaskStatus(state: .assigned)))
            }
            let downs = downs
            downWatch = orchestrator.watch { event in
                if case .nodeUpdated(let node) = event, node.status.state == .down {
                    downs.withLock { $0.append(node.id) }
                }
            }
            for id in ["m1", "m2", "m3"] { managers.append(try await Manager(id, on: coordination, clock: clock)) }
        }

        /// Advances virtual time in 100 ms steps, letting the managers and agents act after each.
        func run(for duration: Duration) async throws {
            var elapsed = Duration.zero
            while elapsed < duration {
                try clock.advance(by: .milliseconds(100))
                try await Task.sleep(for: .milliseconds(3))
                actAsAgents()
                elapsed += .milliseconds(100)
            }
        }

        /// Each agent beats the manager of its session; one without a session, or told to go
        /// elsewhere, registers with the manager it was sent to (or the owner a reachable
        /// manager names) and reports its task RUNNING, as an agent resends its statuses on
        /// every new session.
        func actAsAgents() {
            let finished = registered.withLock { finished -> [NodeID: Registration] in
                defer { finished = [:] }
                return finished
            }
            for (node, outcome) in finished {
                registering.remove(node)
                guard let session = outcome.session else { continue }
                sessions[node] = (outcome.manager, session)
                try? outcome.manager.dispatcher.updateTaskStatus(
                    nodeID: node, session: session,
                    updates: [TaskStatusUpdate(taskID: "task-\(node)", status: TaskStatus(state: .running))])
            }
            for node in nodes where !registering.contains(node) {
                var sentTo: String?
                // A manager it cannot reach is as good as no session: it asks the others.
                if let (manager, session) = sessions[node], manager.reachable.withLock({ $0 }) {
                    do throws(DispatcherError) {
                        _ = try manager.dispatcher.heartbeat(nodeID: node, session: session)
                        continue
                    } catch .wrongManager(_, let owner?) {
                        sentTo = owner.nodeID
                    } catch {}
                    sessions[node] = nil
                }
                let reachable = managers.filter { $0.reachable.withLock { $0 } }
                let ownerID = sentTo ?? reachable.lazy.compactMap { $0.sharded.table?.owner(of: node)?.nodeID }.first
                guard let target = reachable.first(where: { $0.id == ownerID }) else { continue }
                registering.insert(node)
                let registered = registered
                Task {
                    let message = try? await target.dispatcher.register(
                        nodeID: node, description: NodeDescription(hostname: node.rawValue))
                    registered.withLock { $0[node] = Registration(manager: target, session: message?.sessionID) }
                }
            }
        }

        /// Whether every node holds a session with a reachable manager, the one every reachable
        /// manager's table names as its owner.
        var settled: Bool {
            let tables = managers.filter { $0.reachable.withLock { $0 } }.compactMap { $0.sharded.table }
            guard let table = tables.first, tables.allSatisfy({ $0 == table }) else { return false }
            return nodes.allSatisfy { node in
                guard let manager = sessions[node]?.manager, manager.reachable.withLock({ $0 }) else { return false }
                return manager.id == table.owner(of: node)?.nodeID
            }
        }

        func shutDown() async throws {
            for manager in managers { try await manager.shutDown() }
            downWatch = nil
            await orchestrator.close()
        }
    }

    @Test func threeManagersSplitTheNodesAndEachServesOnlyItsShare() async throws {
        let deployment = try await Deployment(nodes: 90)
        for _ in 0..<100 where !deployment.settled { try await deployment.run(for: .milliseconds(500)) }
        #expect(deployment.settled)
        let table = try #require(deployment.managers[0].sharded.table)
        #expect(Set(table.managers.map(\.nodeID)) == ["m1", "m2", "m3"])
        // The table every manager acts on is the one stored beside the entries.
        let stored = try await deployment.coordination.read(prefix: "/managers/shards")
        #expect(stored.values.count == 1)
        let beatsBefore = deployment.managers.map(\.dispatcher.heartbeatCount)
        try await deployment.run(for: .seconds(3))
        for (index, manager) in deployment.managers.enumerated() {
            let held = deployment.nodes.count { table.owner(of: $0)?.nodeID == manager.id }
            #expect(manager.dispatcher.nodeCount == held)
            // Every manager takes its shard's beats, not one leader all of them.
            #expect(manager.dispatcher.heartbeatCount > beatsBefore[index])
        }
        // A node at the wrong manager is told where to go.
        let node = deployment.nodes[0]
        let owner = try #require(table.owner(of: node))
        let stranger = try #require(deployment.managers.first { $0.id != owner.nodeID })
        await #expect(throws: DispatcherError.wrongManager(node: node.rawValue, owner: owner)) {
            _ = try await stranger.dispatcher.register(nodeID: node, description: nil)
        }
        #expect(deployment.downs.withLock { $0 }.isEmpty)
        try await deployment.shutDown()
    }

    /// The fencing test: a manager paused past its lease wakes up with DOWN verdicts for the
    /// nodes it held, built before the pause; by then the others hold those nodes and they are
    /// alive. Its writes are fenced on its entry, so none lands. (Without the compare on the
    /// entry, the held batch would be planned again over the newer records and mark them DOWN.)
    @Test func aManagerPausedPastItsLeaseWritesNothingAndItsNodesMoveWithoutADown() async throws {
        let deployment = try await Deployment(nodes: 60)
        for _ in 0..<100 where !deployment.settled { try await deployment.run(for: .milliseconds(500)) }
        #expect(deployment.settled)
        try await deployment.run(for: .seconds(2))
        let paused = deployment.managers[2]
        let table = try #require(paused.sharded.table)
        let pausedNodes = deployment.nodes.filter { table.owner(of: $0)?.nodeID == paused.id }
        #expect(!pausedNodes.isEmpty)

        // Paused: its store calls hang and its agents cannot reach it. Its wheel marks its nodes
        // DOWN 3 s in, and the batch carrying those verdicts hangs with the rest.
        paused.partition.hold()
        paused.reachable.withLock { $0 = false }
        try await deployment.run(for: .seconds(4))
        #expect(pausedNodes.allSatisfy { paused.dispatcher.state(of: $0) == .down })
        // Its lease ends in the store; the others take its nodes, which register with them.
        for _ in 0..<100 where !deployment.settled { try await deployment.run(for: .milliseconds(500)) }
        #expect(deployment.settled)
        let survivors = try #require(deployment.managers[0].sharded.table)
        #expect(!survivors.managers.contains { $0.nodeID == paused.id })
        try await deployment.orchestrator.synchronize()
        for node in pausedNodes { #expect(deployment.orchestrator.node(node)?.status.state == .ready) }

        // It resumes: the held DOWN batch goes out, is fenced, and the manager joins again.
        paused.partition.heal()
        paused.reachable.withLock { $0 = true }
        for _ in 0..<100 {
            try await deployment.run(for: .milliseconds(500))
            if deployment.settled, deployment.managers[0].sharded.table?.managers.count == 3 { break }
        }
        // Read up to date: the orchestrator's replica follows the store's watch in real time.
        try await deployment.run(for: .seconds(1))
        try await deployment.orchestrator.synchronize()
        #expect(paused.events.withLock { $0 }.contains(.leaseLost))
        #expect(deployment.managers[0].sharded.table?.managers.count == 3)
        #expect(deployment.settled)
        #expect(deployment.downs.withLock { $0 }.isEmpty, "DOWN written for live nodes")
        for node in deployment.nodes {
            #expect(deployment.orchestrator.node(node)?.status.state == .ready)
            #expect(deployment.orchestrator.task("task-\(node)")?.status.state == .running)
        }
        try await deployment.shutDown()
    }
}
