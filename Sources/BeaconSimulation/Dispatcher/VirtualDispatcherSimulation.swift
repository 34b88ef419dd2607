import BeaconCore
public import BeaconDispatcher

/// A dispatcher simulation on a manual clock: one thread plays every agent, the orchestrator
/// and the dispatcher's own threads, millisecond by millisecond, as fast as it can. What
/// `beacon simulate dispatcher --virtual-time` runs.
public struct VirtualDispatcherSimulation: Sendable {
    /// What the simulation does.
    public let plan: DispatcherSimulationPlan
    private let heapMeter: SimulationHeapMeter
    private let progress: @Sendable (String) -> Void

    /// - Parameters:
    ///   - plan: the nodes, the duration, the silent fraction and the task churn to simulate.
    ///   - heapMeter: counts the heap registration leaves allocated, for the memory per node.
    ///   - progress: told each phase as it starts (the tool writes it to standard error).
    public init(
        plan: DispatcherSimulationPlan, heapMeter: SimulationHeapMeter = .none,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.plan = plan
        self.heapMeter = heapMeter
        self.progress = progress
    }

    /// Registers every node, runs the plan's duration of heartbeats, silences and churn, and
    /// reports what the dispatcher did.
    ///
    /// - Throws: `DispatcherError` if the dispatcher cannot be made or a node fails to register.
    public func run() throws(DispatcherError) -> DispatcherSimulationOutcome {
        var outcome = DispatcherSimulationOutcome(plan: plan)
        let store = InMemoryDispatcherStore()
        progress("creating \(plan.nodes) nodes")
        let (initialAgents, indexOf) = plan.makeAgents(in: store)
        var agents = initialAgents
        let dispatcher = try VirtualDispatcher(configuration: plan.configuration, store: store)
        let start = dispatcher.now
        @Sendable func micros(_ instant: BeaconInstant) -> UInt64 { (instant.nanoseconds - start.nanoseconds) / 1000 }
        let clock = dispatcher.clock

        // The virtual dispatcher reports on this thread only.
        nonisolated(unsafe) var detected: [(Int, UInt64)] = []
        dispatcher.core.expiryObserver = { node, instant in
            if let index = indexOf[node] { detected.append((index, micros(instant))) }
        }
        nonisolated(unsafe) var committed: [(Int, UInt64)] = []
        nonisolated(unsafe) var downCommits: Set<UInt64> = []
        let watch = store.watch { event in
            if case .nodeUpdated(let node) = event, node.status.state == .down, let index = indexOf[node.id] {
                let now = micros(clock.now)
                committed.append((index, now))
                downCommits.insert(now)
            }
        }
        defer { watch.cancel() }

        progress("registering")
        let residentBefore = ResidentMemory.bytes()
        heapMeter.start()
        try dispatcher.start()
        for index in agents.indices {
            try dispatcher.register(agents[index].node) { result in
                agents[index].session = try? result.get().sessionID
            }
        }
        dispatcher.advance(by: plan.configuration.statusBatchInterval)
        let registered = agents.count { $0.session != nil }
        guard registered == agents.count else {
            throw DispatcherError.invalidArgument("only \(registered) of \(agents.count) nodes registered")
        }
        outcome.measureMemory(
            heapBytes: heapMeter.stop(), residentBytes: ResidentMemory.bytes() - residentBefore,
            arenaBytes: dispatcher.core.path.touchedArenaBytes)

        var schedule = BeatSchedule()
        let firstMillisecond = Int(micros(dispatcher.now) / 1000)
        for index in agents.indices { schedule.schedule(index, atMillisecond: firstMillisecond) }
        let silentSet = plan.silentNodes()
        outcome.silent = silentSet.count
        for index in silentSet { agents[index].silent = true }

        var receivers = [SimulatedAssignmentReceiver](repeating: .init(), count: plan.assignmentNodes)
        var churn = TaskChurn(nodes: (0..<plan.assignmentNodes).map { agents[$0].node }, seed: plan.seed)
        for slot in 0..<plan.assignmentNodes {
            // Every agent registered above, so each has a session.
            try dispatcher.core.openAssignments(
                node: agents[slot].node, session: agents[slot].session!, at: dispatcher.now
            ) { event in
                guard case .message(let message) = event else { return false }
                receivers[slot].receive(message)
                return true
            }
        }

        let endMillisecond = plan.duration.simulationMilliseconds
        let silenceMillisecond = plan.silenceAt.simulationMilliseconds
        let grace = plan.configuration.graceMultiplier
        var due: [Int32] = []
        var churnCredit = 0.0
        let wall = MonotonicClock()
        progress("running \(plan.duration) of virtual time")
        let wallStart = wall.now
        // Each millisecond: advance the dispatcher, then the due agents' heartbeats in one tight
        // loop, timed on their own; the agents' bookkeeping runs outside the timed stretches.
        var calls: [(node: NodeID, session: SessionID, agent: Int)] = []
        var periods: [Duration?] = []
        for millisecond in firstMillisecond..<endMillisecond {
            let instant = start.advanced(by: .milliseconds(Int64(millisecond)))
            schedule.take(millisecond, into: &due)
            calls.removeAll(keepingCapacity: true)
            for raw in due {
                let index = Int(raw)
                if agents[index].silent, millisecond >= silenceMillisecond { continue }
                guard let session = agents[index].session else { continue }
                calls.append((agents[index].node, session, index))
            }
            periods.removeAll(keepingCapacity: true)
            let before = wall.now
            dispatcher.advance(to: instant)
            for (position, call) in calls.enumerated() {
                if position == 0, millisecond % 8 == 0 {
                    // The bucket's first call timed on its own (its node's memory is cold, as it
                    // is in production), for the latency distribution.
                    let callStart = wall.now
                    periods.append(try? dispatcher.heartbeat(node: call.node, session: call.session))
                    outcome.latencySamples.append(Double(wall.now.nanoseconds - callStart.nanoseconds))
                } else {
                    periods.append(try? dispatcher.heartbeat(node: call.node, session: call.session))
                }
            }
            outcome.dispatcherNanoseconds += Double(wall.now.nanoseconds - before.nanoseconds)
            let nowMicros = UInt64(millisecond) * 1000
            for (call, period) in zip(calls, periods) {
                guard let period else {
                    agents[call.agent].session = nil
                    continue
                }
                outcome.heartbeats += 1
                let periodMicros = period.simulationMicros
                agents[call.agent].deadlineMicros = max(
                    agents[call.agent].deadlineMicros, nowMicros + UInt64((Double(periodMicros) * grace).rounded(.up)))
                // Beat again a little before the period ends, as an agent on a network would.
                schedule.schedule(call.agent, atMillisecond: millisecond + max(1, Int(periodMicros / 1000) - 50))
            }
            churnCredit += Double(plan.churnPerSecond) / 1000
            while churnCredit >= 1 {
                churn.step(store)
                churnCredit -= 1
            }
        }
        outcome.elapsedSeconds = Double(wall.now.nanoseconds - wallStart.nanoseconds) / 1e9
        // Let the last assignment batches go out.
        dispatcher.advance(by: .milliseconds(300))

        SimulatedAgent.record(detected: detected, committed: committed, in: &agents)
        outcome.downFlushes = downCommits.count
        for slot in 0..<plan.assignmentNodes where !agents[slot].silent {
            outcome.add(receivers[slot], expecting: churn.expected(slot))
        }
        outcome.conclude(agents, endMicros: UInt64(endMillisecond) * 1000)
        progress("timing heartbeat calls")
        try measureHeartbeatCalls(on: dispatcher, agents: agents, into: &outcome)
        return outcome
    }

    /// Times heartbeats of live nodes in random order (ten per live node, at most 100 000) on a
    /// frozen clock after the run, so no deadline passes: all of them one call each, then all of
    /// them again through the batch path, 100 at a time. The second sweep starts only after the
    /// first has touched every node's lines, so at a million nodes neither finds them in cache.
    /// Each group of 100 ids is made just before it is timed, as a server decodes them from a
    /// request: the id is in cache, the node's session slot and wheel record are not. The median
    /// of five passes.
    private func measureHeartbeatCalls(
        on dispatcher: VirtualDispatcher, agents: [SimulatedAgent], into outcome: inout DispatcherSimulationOutcome
    ) throws(DispatcherError) {
        let live = agents.indices.filter { !agents[$0].silent && agents[$0].session != nil }
        guard !live.isEmpty else { return }
        let size = DispatcherSimulationOutcome.heartbeatsPerBatch
        var random = SplitMix64(seed: plan.seed &+ 1)
        let count = min(100_000, 10 * live.count)
        let order = (0..<count).map { _ in live[Int(random.next(upperBound: UInt64(live.count)))] }
        // A new string per id, as a decoder makes one: the agents' own strings are cold by now.
        func decoded(_ positions: Range<Int>) throws(DispatcherError) -> [NodeHeartbeat] {
            var batch: [NodeHeartbeat] = []
            batch.reserveCapacity(positions.count)
            for index in order[positions] {
                let name = String(decoding: Array(agents[index].node.rawValue.utf8), as: UTF8.self)
                // Every live agent registered, so each has a session.
                batch.append(NodeHeartbeat(nodeID: try NodeID(name), session: agents[index].session!))
            }
            return batch
        }
        let wall = MonotonicClock()
        var singles: [Double] = []
        var batches: [Double] = []
        for _ in 0..<5 {
            var single: UInt64 = 0
            for start in stride(from: 0, to: order.count, by: size) {
                let heartbeats = try decoded(start..<min(start + size, order.count))
                let before = wall.now
                for heartbeat in heartbeats {
                    _ = try? dispatcher.heartbeat(node: heartbeat.nodeID, session: heartbeat.session)
                }
                single += wall.now.nanoseconds - before.nanoseconds
            }
            var batched: UInt64 = 0
            for start in stride(from: 0, to: order.count, by: size) {
                let batch = try decoded(start..<min(start + size, order.count))
                let before = wall.now
                batch.withUnsafeBufferPointer { heartbeats in
                    dispatcher.core.path.beat(batch: heartbeats) { _, _ in }
                }
                batched += wall.now.nanoseconds - before.nanoseconds
            }
            singles.append(Double(single) / Double(order.count))
            batches.append(Double(batched) / Double(order.count))
        }
        outcome.timedHeartbeats = count
        outcome.singleHeartbeatNanoseconds = DispatcherSimulationOutcome.percentile(singles, 0.5)
        outcome.batchedHeartbeatNanoseconds = DispatcherSimulationOutcome.percentile(batches, 0.5)
    }
}
