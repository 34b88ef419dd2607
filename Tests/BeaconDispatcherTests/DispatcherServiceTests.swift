import BeaconCore
@testable import BeaconDispatcher
import BeaconLifecycle
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// The dispatcher on the system clock, with its own threads: run in CI under ThreadSanitizer.
/// Nothing here asserts a duration; waits are bounded only so a broken build fails instead of
/// hanging.
@Suite struct DispatcherServiceTests {
    private func fastConfiguration() -> DispatcherConfiguration {
        var configuration = DispatcherConfiguration()
        configuration.heartbeatPeriod = .milliseconds(50)
        configuration.heartbeatJitter = .milliseconds(10)
        // A deadline of 400 ms: wide enough that a live node beating every 25 ms never misses it
        // on a loaded CI machine under ThreadSanitizer.
        configuration.graceMultiplier = 8
        configuration.rateLimitPeriod = .zero
        configuration.statusBatchInterval = .milliseconds(20)
        return configuration
    }

    /// Registers once the dispatcher's `run` has started leading.
    private func register(_ dispatcher: Dispatcher, _ node: NodeID) async throws -> NodeSession {
        for _ in 0 ..< 500 {
            do {
                return try await dispatcher.session(nodeID: node, description: NodeDescription(hostname: node.rawValue))
            } catch .stopped {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        throw DispatcherError.stopped
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0 ..< 1000 where !condition() {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(condition())
    }

    @Test func liveNodesStayReadySilentOnesGoDownAndStopEndsEverything() async throws {
        let store = InMemoryDispatcherStore()
        let live = nodeID("live")
        let silent = nodeID("silent")
        store.createNodes([live, silent])
        store.putTask(DispatchedTask(id: "t", nodeID: live, status: TaskStatus(state: .assigned)))
        let dispatcher = try Dispatcher(configuration: fastConfiguration(), store: store)
        let running = Task { try await dispatcher.run() }

        let liveSession = try await register(dispatcher, live)
        let beating = Task {
            var beats = 0
            while !Task.isCancelled {
                let period = try dispatcher.heartbeat(nodeID: live, session: liveSession.id)
                beats += 1
                try await Task.sleep(for: period / 2)
            }
            return beats
        }
        let silentSession = try await register(dispatcher, silent)
        #expect(store.node(live)?.status.state == .ready)
        var assignments = try dispatcher.assignments(nodeID: live, session: liveSession.id).makeAsyncIterator()
        let complete = try #require(try await assignments.next())
        #expect(complete.kind == .complete && complete.changeCount == 1)
        try await waitUntil { store.node(silent)?.status.state == .down }
        #expect(store.node(silent)?.status.message == "heartbeat failure")
        #expect(store.node(live)?.status.state == .ready)
        #expect(await endOfStream(silentSession.messages) == .nodeNotRegistered)
        try dispatcher.updateTaskStatus(
            nodeID: live, session: liveSession.id, updates: [TaskStatusUpdate(taskID: "t", status: TaskStatus(state: .running))])
        try await waitUntil { store.task("t")?.status.state == .running }

        beating.cancel()
        _ = await beating.result
        dispatcher.stop()
        try await running.value
        #expect(throws: DispatcherError.stopped) { _ = try dispatcher.heartbeat(nodeID: live, session: liveSession.id) }
        var last: SessionMessage?
        for try await message in liveSession { last = message }
        #expect(last?.disconnect == true)
        #expect(await endOfStream(&assignments) == .stopped)
    }

    /// Reads to the end; returns the error the stream ended with (nil for a normal end).
    private func endOfStream<Element>(_ stream: DispatcherStream<Element>) async -> DispatcherError? {
        var iterator = stream.makeAsyncIterator()
        return await endOfStream(&iterator)
    }

    private func endOfStream<Element>(_ iterator: inout DispatcherStream<Element>.AsyncIterator) async -> DispatcherError? {
        do {
            while try await iterator.next() != nil {}
            return nil
        } catch {
            return error
        }
    }

    @Test func registrationReturnsOnlyAfterItsWriteCommits() async throws {
        let store = GatedStore()
        let node = nodeID("n")
        store.base.createNode(node)
        let dispatcher = try Dispatcher(configuration: fastConfiguration(), store: store)
        let running = Task { try await dispatcher.run() }
        let registering = Task { try await register(dispatcher, node) }
        try await waitUntil { store.blockedCommits > 0 }
        try await Task.sleep(for: .milliseconds(100))
        #expect(store.base.node(node)?.status.state == .unknown)
        store.open()
        let session = try await registering.value
        #expect(store.base.node(node)?.status.state == .ready)
        #expect(try dispatcher.heartbeat(nodeID: node, session: session.id) > .zero)
        dispatcher.stop()
        try await running.value
    }

    /// With only heartbeats arriving the loop has nothing to do and must sleep (a timer that
    /// signalled after being cancelled once made it spin on every core).
    @Test func anIdleDispatcherSleeps() async throws {
        var configuration = fastConfiguration()
        configuration.heartbeatPeriod = .seconds(60)
        configuration.metricsInterval = .seconds(3600)
        let store = InMemoryDispatcherStore()
        let node = nodeID("n")
        store.createNode(node)
        let dispatcher = try Dispatcher(configuration: configuration, store: store)
        let running = Task { try await dispatcher.run() }
        let session = try await register(dispatcher, node)
        try await Task.sleep(for: .milliseconds(200))
        let before = dispatcher.loopPasses
        for _ in 0 ..< 50 {
            _ = try dispatcher.heartbeat(nodeID: node, session: session.id)
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(dispatcher.loopPasses - before < 10)
        dispatcher.stop()
        try await running.value
    }

    @Test func runTwiceAtOnceIsRefused() async throws {
        let dispatcher = try Dispatcher(configuration: fastConfiguration(), store: InMemoryDispatcherStore())
        let running = Task { try await dispatcher.run() }
        let probe = try SessionID("00000000000000000000000000000001")
        // A stopped dispatcher answers `stopped`; a running one does not know the node.
        try await waitUntil {
            dispatcherError { () throws(DispatcherError) in _ = try dispatcher.heartbeat(nodeID: nodeID("x"), session: probe) }
                == .nodeNotRegistered
        }
        await #expect(throws: DispatcherError.alreadyRunning) { try await dispatcher.run() }
        dispatcher.stop()
        try await running.value
    }
}

/// The in-memory store, except that commits wait until the test opens the gate: a store whose
/// consensus is slow.
final class GatedStore: DispatcherStore {
    let base = InMemoryDispatcherStore()
    private let gate = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>], blocked: Int)>((false, [], 0))

    var blockedCommits: Int { gate.withLock { $0.blocked } }

    func open() {
        let waiting = gate.withLock { gate in
            gate.open = true
            defer { gate.waiting = [] }
            return gate.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    func node(_ id: NodeID) -> Node? { base.node(id) }
    func allNodes() -> [Node] { base.allNodes() }
    func task(_ id: String) -> DispatchedTask? { base.task(id) }
    func tasks(on node: NodeID) -> [DispatchedTask] { base.tasks(on: node) }
    func dependency(_ kind: DependencyKind, id: String) -> TaskDependency? { base.dependency(kind, id: id) }
    func clusterSettings() -> ClusterSettings { base.clusterSettings() }
    func watch(_ observer: @escaping @Sendable (StoreEvent) -> Void) -> StoreWatch { base.watch(observer) }

    func commit(_ writes: [DispatcherWrite]) async throws(DispatcherError) {
        await withCheckedContinuation { continuation in
            let proceed = gate.withLock { gate in
                if gate.open { return true }
                gate.blocked += 1
                gate.waiting.append(continuation)
                return false
            }
            if proceed { continuation.resume() }
        }
        base.apply(writes)
    }
}

/// The dispatcher under swift-service-lifecycle: a graceful shutdown of the group stops it.
@Suite struct DispatcherLifecycleTests {
    @Test func gracefulShutdownStopsTheDispatcher() async throws {
        let store = InMemoryDispatcherStore()
        let node = nodeID("n")
        store.createNode(node)
        let dispatcher = try Dispatcher(store: store)
        let group = ServiceGroup(services: [DispatcherService(dispatcher)], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        var session: NodeSession?
        for _ in 0 ..< 500 where session == nil {
            session = try? await dispatcher.session(nodeID: node, description: nil)
            if session == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let id = try #require(session).id
        #expect(throws: Never.self) { _ = try dispatcher.heartbeat(nodeID: node, session: id) }
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(throws: DispatcherError.stopped) { _ = try dispatcher.heartbeat(nodeID: node, session: id) }
    }
}
