import BeaconCore
import BeaconDispatcher
import BeaconPrimitives
import BenchmarkSupport
import Logging

/// A dispatcher simulation in real time against `Dispatcher` itself: its wheel thread, its
/// flush loop and its store watcher run as in production, while one task plays the agents'
/// heartbeats, others read assignment streams and one churns tasks. What `beacon simulate
/// dispatcher` runs; it takes the plan's duration of wall-clock time.
public struct RealTimeDispatcherSimulation: Sendable {
    /// What the simulation does.
    public let plan: DispatcherSimulationPlan
    private let heapMeter: SimulationHeapMeter
    private let progress: @Sendable (String) -> Void

    /// Events reported on the dispatcher's threads.
    private final class Recorder: Sendable {
        let detected = PosixMutex<[(Int, UInt64)]>([])
        let committed = PosixMutex<[(Int, UInt64)]>([])
        let commitInstants = PosixMutex<Set<UInt64>>([])
    }

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

    /// Registers every node, runs the plan's duration of heartbeats, silences and churn on the
    /// system clock, and reports what the dispatcher did.
    ///
    /// - Throws: `DispatcherError` if the dispatcher cannot be made or a node cannot register
    ///   within 100 back-off retries; `CancellationError` if the task is cancelled.
    public func run() async throws -> DispatcherSimulationOutcome {
        var outcome = DispatcherSimulationOutcome(plan: plan)
        let store = InMemoryDispatcherStore()
        progress("creating \(plan.nodes) nodes")
        let (initialAgents, indexOf) = plan.makeAgents(in: store)
        var agents = initialAgents
        var logger = Logger(label: "beacon.simulate")
        logger.logLevel = .warning
        let clock = MonotonicClock()
        let dispatcher = try Dispatcher(configuration: plan.configuration, clock: clock, store: store, logger: logger)
        let start = clock.now
        @Sendable func micros(_ instant: BeaconInstant) -> UInt64 { (instant.nanoseconds - start.nanoseconds) / 1000 }
        let recorder = Recorder()
        dispatcher.observeExpiries { node, instant in
            if let index = indexOf[node] { recorder.detected.withLock { $0.append((index, micros(instant))) } }
        }
        let watch = store.watch { event in
            if case .nodeUpdated(let node) = event, node.status.state == .down, let index = indexOf[node.id] {
                let now = micros(clock.now)
                recorder.committed.withLock { $0.append((index, now)) }
                recorder.commitInstants.withLock { _ = $0.insert(now / 1000) }
            }
        }
        defer { watch.cancel() }

        let residentBefore = ResidentMemory.bytes()
        heapMeter.start()
        let running = Task { try await dispatcher.run() }
        progress("registering \(plan.nodes) nodes")
        let sessions = try await register(agents.map(\.node), with: dispatcher, on: clock)
        for index in agents.indices { agents[index].session = sessions[index].id }
        outcome.measureMemory(
            heapBytes: heapMeter.stop(), residentBytes: ResidentMemory.bytes() - residentBefore,
            arenaBytes: dispatcher.touchedArenaBytes)

        let silentSet = plan.silentNodes()
        outcome.silent = silentSet.count
        for index in silentSet { agents[index].silent = true }
        var readers: [Task<SimulatedAssignmentReceiver, Never>] = []
        for slot in 0..<plan.assignmentNodes {
            // Every agent registered above, so each has a session.
            let stream = try dispatcher.assignments(nodeID: agents[slot].node, session: agents[slot].session!)
            readers.append(
                Task {
                    var receiver = SimulatedAssignmentReceiver()
                    do {
                        for try await message in stream { receiver.receive(message) }
                    } catch {
                        // The stream ends when the node expires or the dispatcher stops.
                    }
                    return receiver
                })
        }
        let churnNodes = (0..<plan.assignmentNodes).map { agents[$0].node }
        let churnPlan = plan
        let orchestrator = Task {
            var churn = TaskChurn(nodes: churnNodes, seed: churnPlan.seed)
            var credit = 0.0
            while !Task.isCancelled {
                try? await clock.sleep(for: .milliseconds(10))
                credit += Double(churnPlan.churnPerSecond) / 100
                while credit >= 1 {
                    churn.step(store)
                    credit -= 1
                }
            }
            return churn
        }

        progress("running for \(plan.duration)")
        var schedule = BeatSchedule()
        let firstMillisecond = Int(micros(clock.now) / 1000)
        for index in agents.indices { schedule.schedule(index, atMillisecond: firstMillisecond + index % 5000) }
        let endMillisecond = plan.duration.simulationMilliseconds
        let silenceMillisecond = plan.silenceAt.simulationMilliseconds
        let grace = plan.configuration.graceMultiplier
        var due: [Int32] = []
        var processed = firstMillisecond - 1
        var sample = 0
        let cpuStart = ProcessCPU.seconds()
        let wallStart = clock.now
        while processed < endMillisecond {
            let current = min(Int(micros(clock.now) / 1000), endMillisecond)
            while processed < current {
                processed += 1
                schedule.take(processed, into: &due)
                for raw in due {
                    let index = Int(raw)
                    if agents[index].silent, processed >= silenceMillisecond { continue }
                    guard let session = agents[index].session else { continue }
                    sample &+= 1
                    let callStart = clock.now
                    let period: Duration
                    do {
                        period = try dispatcher.heartbeat(nodeID: agents[index].node, session: session)
                    } catch {
                        agents[index].session = nil
                        continue
                    }
                    let callEnd = clock.now
                    outcome.dispatcherNanoseconds += Double(callEnd.nanoseconds - callStart.nanoseconds)
                    if sample & 15 == 0 {
                        outcome.latencySamples.append(Double(callEnd.nanoseconds - callStart.nanoseconds))
                    }
                    outcome.heartbeats += 1
                    let periodMicros = period.simulationMicros
                    // The wheel counts from the beat clock, which may run up to a slot ahead of ours.
                    let deadline = micros(callEnd) + UInt64((Double(periodMicros) * grace).rounded(.up))
                    agents[index].deadlineMicros = max(agents[index].deadlineMicros, deadline)
                    schedule.schedule(index, atMillisecond: processed + max(1, Int(periodMicros / 1000) - 50))
                }
            }
            try await clock.sleep(for: .milliseconds(1))
        }
        outcome.processCPUSeconds = ProcessCPU.seconds() - cpuStart
        outcome.elapsedSeconds = Double(clock.now.nanoseconds - wallStart.nanoseconds) / 1e9
        orchestrator.cancel()
        let churn = await orchestrator.value
        try await clock.sleep(for: .milliseconds(500))  // the last assignment batches and writes go out
        dispatcher.stop()
        try await running.value
        // The session streams stay open for the whole run, as the agents' would.
        withExtendedLifetime(sessions) {}
        SimulatedAgent.record(
            detected: recorder.detected.withLock { $0 }, committed: recorder.committed.withLock { $0 }, in: &agents)
        outcome.downFlushes = recorder.commitInstants.withLock { $0.count }
        for slot in 0..<plan.assignmentNodes {
            let receiver = await readers[slot].value
            guard !agents[slot].silent else { continue }
            outcome.add(receiver, expecting: churn.expected(slot))
        }
        outcome.conclude(agents, endMicros: UInt64(endMillisecond) * 1000)
        return outcome
    }

    /// Registers every node, 20 000 at a time at most, each retrying as SwarmKit's agents do
    /// while the dispatcher has not started leading; returns each node's session.
    private func register(
        _ nodes: [NodeID], with dispatcher: Dispatcher<MonotonicClock>, on clock: MonotonicClock
    ) async throws -> [NodeSession] {
        var sessions = [NodeSession?](repeating: nil, count: nodes.count)
        let registrationSeed = plan.seed
        try await withThrowingTaskGroup(of: (Int, NodeSession).self) { group in
            var next = 0
            func launch() {
                let index = next
                next += 1
                group.addTask {
                    // Jittered, doubling from 100 ms to 8 s.
                    var backoff = try Backoff()
                    var random = SplitMix64(seed: registrationSeed &+ UInt64(index))
                    for _ in 0..<100 {
                        do {
                            return (index, try await dispatcher.session(nodeID: nodes[index], description: nil))
                        } catch DispatcherError.stopped {
                            // `run` has not started leading yet.
                            try await backoff.sleep(on: clock, using: &random)
                        }
                    }
                    throw DispatcherError.stopped
                }
            }
            for _ in 0..<min(20_000, nodes.count) { launch() }
            while let (index, session) = try await group.next() {
                sessions[index] = session
                if next < nodes.count { launch() }
            }
        }
        return sessions.map { $0! }
    }
}
