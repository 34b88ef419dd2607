import BeaconCoordination
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherCoordination
import BeaconDispatcherLeadership
import BeaconPrimitives
import Testing

/// One manager of a sharded deployment under test: its view of the store (which a test can
/// pause or cut), records, dispatcher and run.
final class ShardedManager<Clock: BeaconClock>: Sendable {
    let id: String
    let partition: Partition
    let records: CoordinatedDispatcherStore
    let dispatcher: Dispatcher<Clock>
    let sharded: ShardedDispatcher<Clock>
    let events = PosixMutex<[ShardedDispatcher<Clock>.Event]>([])
    let running: Task<Void, any Error>
    /// Whether its agents can reach it (false while the test pauses it).
    let reachable = PosixMutex(true)

    init(
        _ id: String, on coordination: any CoordinationStore, clock: Clock, leaseTTL: Duration,
        unknownGraceMultiplier: Double?
    ) async throws {
        self.id = id
        partition = Partition(coordination, stallableWatches: true)
        var configuration = DispatcherConfiguration()
        configuration.heartbeatPeriod = .seconds(1)
        configuration.heartbeatJitter = .zero
        configuration.rateLimitPeriod = .zero
        configuration.unknownGraceMultiplier = unknownGraceMultiplier
        records = try await CoordinatedDispatcherStore.open(on: partition, prefix: "/records/")
        dispatcher = try Dispatcher(configuration: configuration, clock: clock, store: records)
        let events = events
        sharded = ShardedDispatcher(
            dispatcher: dispatcher, records: records, store: partition, root: "/managers/",
            manager: WeightedManager(nodeID: id, address: "\(id):4242"), leaseTTL: leaseTTL
        ) { event in events.withLock { $0.append(event) } }
        running = Task { [sharded] in try await sharded.run() }
    }

    /// Cancels the manager and closes its records, whatever its run ends with: a run that throws
    /// on cancellation is recorded as an issue, and the cleanup still happens.
    func shutDown() async {
        running.cancel()
        if case .failure(let error) = await running.result {
            Issue.record("manager \(id) ended with \(error)")
        }
        await records.close()
    }
}

/// Three managers, the nodes, and agents that beat their manager and follow where they are
/// sent, stepped by the test.
final class ShardedDeployment<Clock: BeaconClock>: @unchecked Sendable {
    typealias Manager = ShardedManager<Clock>
    // Unchecked: the test's task alone touches everything but `registered`.
    let coordination: any CoordinationStore
    private let step: (Duration) async throws -> Void
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

    /// - Parameters:
    ///   - step: lets 100 ms pass (advances a manual clock, or sleeps in real time).
    init(
        nodes count: Int, on coordination: any CoordinationStore, clock: Clock, leaseTTL: Duration = .seconds(6),
        unknownGraceMultiplier: Double? = nil, step: @escaping (Duration) async throws -> Void
    ) async throws {
        self.coordination = coordination
        self.step = step
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
        for id in ["m1", "m2", "m3"] {
            managers.append(
                try await Manager(
                    id, on: coordination, clock: clock, leaseTTL: leaseTTL,
                    unknownGraceMultiplier: unknownGraceMultiplier))
        }
    }

    /// Lets time pass in 100 ms steps, the agents acting after each.
    func run(for duration: Duration) async throws {
        var elapsed = Duration.zero
        while elapsed < duration {
            try await step(.milliseconds(100))
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

    /// Pauses the manager at `index`: its store calls hang and its agents cannot reach it.
    /// Returns it with the nodes the shared table gave it before the pause.
    func pause(_ index: Int) throws -> (manager: Manager, nodes: [NodeID]) {
        let paused = managers[index]
        let table = try #require(paused.sharded.table)
        let held = nodes.filter { table.owner(of: $0)?.nodeID == paused.id }
        paused.partition.hold()
        paused.reachable.withLock { $0 = false }
        return (paused, held)
    }

    /// Resumes a paused manager (its held store calls go out) and runs in half-second steps, at
    /// most `rounds` of them, until it is back in the table and every node is settled.
    func resume(_ paused: Manager, rounds: Int) async throws {
        paused.partition.heal()
        paused.reachable.withLock { $0 = true }
        for _ in 0..<rounds {
            try await run(for: .milliseconds(500))
            if settled, managers[0].sharded.table?.managers.count == managers.count { break }
        }
    }

    /// Lets time pass in half-second steps, for at most `limit`, until the orchestrator reads
    /// every node READY and its task RUNNING; returns the nodes that still are not, with what it
    /// reads. A stale manager's status can land after the owner's, which writes its own again
    /// in its next batch: the records agree with the sessions once that is through.
    func recordsBehindTheSessions(within limit: Duration) async throws -> [String] {
        var waited = Duration.zero
        while true {
            try await orchestrator.synchronize()
            let behind = nodes.compactMap { node -> String? in
                let state = orchestrator.node(node)?.status
                let task = orchestrator.task("task-\(node)")?.status.state
                guard state?.state != .ready || task != .running else { return nil }
                return
                    "\(node): \(state.map { "\($0.state) \"\($0.message)\"" } ?? "no record"), task \(task.map { "\($0)" } ?? "none")"
            }
            if behind.isEmpty || waited >= limit { return behind }
            try await run(for: .milliseconds(500))
            waited += .milliseconds(500)
        }
    }

    func shutDown() async {
        for manager in managers { await manager.shutDown() }
        downWatch = nil
        await orchestrator.close()
    }
}
