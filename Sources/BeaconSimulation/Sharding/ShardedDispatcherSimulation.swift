import BeaconCoordination
import BeaconCore
public import BeaconDispatcher
import BeaconDispatcherCoordination

/// Several dispatchers sharing the nodes on a manual clock, one thread playing every agent and
/// manager: each manager holds its shard of the table, the last one is killed mid-run, and the
/// others take its nodes over once its lease ends. What
/// `beacon simulate dispatcher --managers N --virtual-time` runs.
///
/// The managers share one in-memory dispatcher store; their entries and the shard table go
/// through the same `ShardRoster` a `ShardedDispatcher` reads from a coordination store, with
/// each entry's lease modelled: a killed manager's entry goes a lease TTL after the kill (its
/// last refresh may have been just before it). Agents behave as SwarmKit's do: a node whose
/// manager stops answering asks another, follows `DispatcherError/wrongManager(node:owner:)`
/// to the owner it names, retries a second later when that owner is gone, and reports its
/// task's status again on every new session.
public struct ShardedDispatcherSimulation: Sendable {
    /// What the simulation does.
    public let plan: ShardedSimulationPlan
    private let progress: @Sendable (String) -> Void

    /// - Parameters:
    ///   - plan: the nodes, managers, kill and lease to simulate.
    ///   - progress: told each phase as it starts (the tool writes it to standard error).
    public init(plan: ShardedSimulationPlan, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.plan = plan
        self.progress = progress
    }

    /// Runs the plan and reports the handoff.
    ///
    /// - Throws: `DispatcherError` if a dispatcher cannot be made.
    public func run() throws(DispatcherError) -> ShardedSimulationOutcome {
        try ShardedRun(plan: plan, progress: progress).run()
    }
}

/// The state of one run; one thread drives it.
final class ShardedRun {
    struct Agent {
        let node: NodeID
        var manager: Int?
        var session: SessionID?
        /// The manager to register with next, as the last refusal named it.
        var target: Int?
        /// The manager a registration in flight went to.
        var registeringWith: Int?
        /// Registrations refused so far, to spread the agent's next guess over the managers.
        var refusals = 0
    }

    struct Manager {
        let id: WeightedManager
        var dispatcher: VirtualDispatcher?
        var alive = false
        var beats = 0
    }

    let plan: ShardedSimulationPlan
    let progress: @Sendable (String) -> Void
    let store = InMemoryDispatcherStore()
    let start = BeaconInstant(nanoseconds: 1_000_000_000)
    var roster = ShardRoster(root: "/managers/", snapshot: StoreSnapshot(values: [], revision: 0))
    var revision: Int64 = 0
    var table = ShardTable.none
    var managers: [Manager]
    var agents: [Agent]
    var schedule = BeatSchedule()
    var millisecond = 0
    var outcome: ShardedSimulationOutcome
    /// Nodes the killed manager held, and when each held a session again (ms), once it did.
    var movedAtKill: [Int: Int?] = [:]
    var killMillisecond: Int?

    init(plan: ShardedSimulationPlan, progress: @escaping @Sendable (String) -> Void) {
        self.plan = plan
        self.progress = progress
        outcome = ShardedSimulationOutcome(plan: plan)
        managers = plan.managerIDs.map { Manager(id: WeightedManager(nodeID: $0, address: "\($0):4242")) }
        // The names are well-formed by construction.
        agents = (0..<plan.nodes).map { Agent(node: try! NodeID(DispatcherSimulationPlan.nodeName($0))) }
    }

    var now: BeaconInstant { start.advanced(by: .milliseconds(Int64(millisecond))) }

    func run() throws(DispatcherError) -> ShardedSimulationOutcome {
        progress("creating \(plan.nodes) nodes and their tasks")
        store.createNodes(agents.map(\.node))
        for (index, agent) in agents.enumerated() {
            store.putTask(
                DispatchedTask(id: Self.task(index), nodeID: agent.node, status: TaskStatus(state: .assigned)))
        }
        // The in-memory store reports on the committing thread: this one.
        nonisolated(unsafe) var falseDowns = 0
        nonisolated(unsafe) var writes = 0
        let watch = store.watch { event in
            writes += 1
            if case .nodeUpdated(let node) = event, node.status.state == .down { falseDowns += 1 }
        }
        defer { watch.cancel() }

        progress("starting \(plan.managers) managers")
        for index in managers.indices { try join(index) }
        outcome.heldAtStart = managers.map { manager in agents.count { table.owner(of: $0.node) == manager.id } }
        // First beats spread over the first second, in an order drawn from the seed.
        for index in agents.indices {
            let draw = (UInt64(index) &* 0x9E37_79B9_7F4A_7C15) ^ plan.seed
            schedule.schedule(index, atMillisecond: 1 + Int(draw % 1000))
        }

        let end = Self.milliseconds(plan.duration)
        let kill = Self.milliseconds(plan.killAt)
        let expiry = kill + Self.milliseconds(plan.leaseTTL)
        let rejoin = plan.rejoinAfter.map { kill + Self.milliseconds($0) }
        let killed = managers.count - 1
        progress("running \(plan.duration) of virtual time; killing \(managers[killed].id.nodeID) at \(plan.killAt)")
        var due: [Int32] = []
        while millisecond < end {
            millisecond += 1
            for index in managers.indices where managers[index].alive { managers[index].dispatcher?.advance(to: now) }
            if millisecond == Self.steadyFrom { outcome.steady = (writes, beats) }
            if millisecond == kill {
                outcome.steady = (writes - outcome.steady.writes, beats - outcome.steady.heartbeats)
                self.kill(killed)
            }
            if millisecond == expiry { try leave(killed) }
            if millisecond == rejoin {
                let before = agents.map { table.owner(of: $0.node) }
                try join(killed)
                outcome.movedOnRejoin = zip(before, agents).count { $0 != table.owner(of: $1.node) }
            }
            schedule.take(millisecond, into: &due)
            for agent in due { act(Int(agent)) }
        }
        // Let the last registrations and status reports commit.
        for _ in 0..<300 {
            millisecond += 1
            for index in managers.indices where managers[index].alive { managers[index].dispatcher?.advance(to: now) }
        }

        outcome.beatsPerManager = managers.map(\.beats)
        outcome.heartbeats = managers.reduce(0) { $0 + $1.beats }
        outcome.moved = movedAtKill.count
        outcome.resessionSeconds = movedAtKill.values.compactMap { $0 }.map { Double($0 - kill) / 1000 }.sorted()
        outcome.falseDowns = falseDowns
        outcome.storeWrites = writes
        outcome.unsessioned = agents.count { $0.session == nil }
        outcome.statusesLost = agents.indices.count { store.task(Self.task($0))?.status.state != .running }
        return outcome
    }

    static func task(_ index: Int) -> String { "task-\(index)" }

    /// Where the steady window starts: every node registered and reported long before.
    static let steadyFrom = 10_000

    var beats: Int { managers.reduce(0) { $0 + $1.beats } }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    // MARK: Managers

    /// Starts manager `index` as a new process: its entry goes into the roster, every live
    /// manager follows the new table, and its dispatcher starts on its part of it.
    func join(_ index: Int) throws(DispatcherError) {
        let dispatcher = try VirtualDispatcher(configuration: plan.configuration, store: store, start: now)
        managers[index].dispatcher = dispatcher
        revision += 1
        let id = managers[index].id
        roster.apply([
            .put(
                StoredValue(
                    key: roster.memberKey(id.nodeID), value: ShardRoster.memberValue(id), createRevision: revision,
                    modRevision: revision, lease: LeaseID(revision)))
        ])
        follow()
        try dispatcher.start()
        managers[index].alive = true
    }

    /// Kills manager `index`: it stops answering, and what it queued is lost with it.
    func kill(_ index: Int) {
        managers[index].alive = false
        managers[index].dispatcher?.abandon()
        // Registrations in flight there never answer: their agents try again a second later.
        for agent in agents.indices where agents[agent].registeringWith == index {
            agents[agent].registeringWith = nil
            schedule.schedule(agent, atMillisecond: millisecond + 1000)
        }
        killMillisecond = millisecond
        for (position, agent) in agents.enumerated() where table.owner(of: agent.node) == managers[index].id {
            movedAtKill[position] = .some(nil)
        }
    }

    /// Manager `index`'s lease ran out: its entry leaves the roster.
    func leave(_ index: Int) throws(DispatcherError) {
        revision += 1
        roster.apply([.delete(key: roster.memberKey(managers[index].id.nodeID), revision: revision)])
        follow()
        managers[index].dispatcher = nil
    }

    /// The roster's table to every live manager (and the starting one), and written back.
    func follow() {
        table = roster.table
        for index in managers.indices {
            managers[index].dispatcher?.updateShard(DispatcherShard(table: table, manager: managers[index].id.nodeID))
        }
        if let write = roster.tableWrite, case .put(let key, let value, _) = write.operation {
            revision += 1
            roster.apply([
                .put(StoredValue(key: key, value: value, createRevision: revision, modRevision: revision, lease: nil))
            ])
        }
    }

    func managerIndex(_ id: WeightedManager?) -> Int? {
        managers.firstIndex { $0.id == id }
    }

    // MARK: Agents

    func act(_ index: Int) {
        guard agents[index].registeringWith == nil else { return }
        if let manager = agents[index].manager, let session = agents[index].session {
            if managers[manager].alive, let dispatcher = managers[manager].dispatcher {
                do throws(DispatcherError) {
                    let period = try dispatcher.heartbeat(node: agents[index].node, session: session)
                    managers[manager].beats += 1
                    // Beat again a little before the period ends, as an agent on a network would.
                    schedule.schedule(index, atMillisecond: millisecond + max(1, Self.milliseconds(period) - 50))
                    return
                } catch .wrongManager(_, let owner) {
                    agents[index].target = managerIndex(owner)
                } catch {
                    agents[index].target = nil
                }
            }
            agents[index].session = nil
            agents[index].manager = nil
        }
        register(index)
    }

    /// Registers with the manager the last refusal named, or another live one; a target that is
    /// gone means waiting a second for the table to move on.
    func register(_ index: Int) {
        let live = managers.indices.filter { managers[$0].alive }
        guard !live.isEmpty else {
            schedule.schedule(index, atMillisecond: millisecond + 1000)
            return
        }
        let target = agents[index].target ?? live[(index + agents[index].refusals) % live.count]
        guard managers[target].alive, let dispatcher = managers[target].dispatcher else {
            agents[index].target = nil
            schedule.schedule(index, atMillisecond: millisecond + 1000)
            return
        }
        agents[index].registeringWith = target
        do throws(DispatcherError) {
            try dispatcher.register(agents[index].node) { [unowned self] result in
                self.registered(index, with: target, result)
            }
        } catch {
            registered(index, with: target, .failure(error))
        }
    }

    func registered(_ index: Int, with manager: Int, _ result: Result<SessionMessage, DispatcherError>) {
        agents[index].registeringWith = nil
        switch result {
        case .success(let message):
            agents[index].manager = manager
            agents[index].session = message.sessionID
            agents[index].target = nil
            try? managers[manager].dispatcher?.core.updateTaskStatus(
                node: agents[index].node, session: message.sessionID,
                [TaskStatusUpdate(taskID: Self.task(index), status: TaskStatus(state: .running))])
            if killMillisecond != nil, case .some(nil) = movedAtKill[index] { movedAtKill[index] = millisecond }
            schedule.schedule(index, atMillisecond: millisecond + 1)
        case .failure(.wrongManager(_, let owner)):
            agents[index].refusals += 1
            agents[index].target = managerIndex(owner)
            schedule.schedule(index, atMillisecond: millisecond + 1)
        case .failure:
            agents[index].refusals += 1
            agents[index].target = nil
            schedule.schedule(index, atMillisecond: millisecond + 1000)
        }
    }
}
