import BeaconCore
import BeaconPrimitives
import Testing

@testable import BeaconDispatcher

/// The dispatcher's shell (its loop, its wheel's thread, its store watch) on a manual clock:
/// what used to need real-time sleeps, shown in virtual time.
@Suite(.timeLimit(.minutes(1))) struct DispatcherShellTests {
    /// Starts `run` and returns once the dispatcher leads and is parked on the clock.
    private func lead(_ dispatcher: Dispatcher<ManualClock>) async -> Task<Void, any Error> {
        let running = Task { try await dispatcher.run() }
        await dispatcher.waitUntilIdle()
        return running
    }

    @Test func registrationReturnsOnlyAfterItsWriteCommits() async throws {
        // A batch limit of one write flushes the moment the registration queues its READY write,
        // so the commit held below is that write's: no advance could flush before it is queued.
        // The node joins the store after the start, which therefore queued no UNKNOWN write.
        var configuration = DispatcherConfiguration()
        configuration.statusBatchLimit = 1
        let store = GatedStore()
        let node = nodeID("n")
        let dispatcher = try Dispatcher(configuration: configuration, clock: ManualClock(), store: store)
        let running = await lead(dispatcher)
        store.base.createNode(node)
        let registered = Latch<Void>()
        let registering = Task {
            let session = try await dispatcher.session(nodeID: node, description: nil)
            registered.settle(())
            return session
        }
        await store.commitHeld.wait()
        #expect(store.base.node(node)?.status.state == .unknown)
        #expect(registered.value == nil)
        store.open()
        let session = try await registering.value
        #expect(store.base.node(node)?.status.state == .ready)
        #expect(try dispatcher.heartbeat(nodeID: node, session: session.id) > .zero)
        dispatcher.stop()
        try await running.value
    }

    /// With only heartbeats arriving the loop has nothing to do and must stay parked (a timer
    /// that signalled after being cancelled once made it spin on every core).
    @Test func heartbeatsDoNotWakeTheLoop() async throws {
        var configuration = DispatcherConfiguration()
        configuration.heartbeatPeriod = .seconds(60)
        configuration.heartbeatJitter = .zero
        configuration.metricsInterval = .seconds(3600)
        let store = InMemoryDispatcherStore()
        let node = nodeID("n")
        store.createNode(node)
        let dispatcher = try Dispatcher(configuration: configuration, clock: ManualClock(), store: store)
        let running = await lead(dispatcher)
        try dispatcher.clock.advance(by: configuration.statusBatchInterval)
        await dispatcher.waitUntilIdle()
        try dispatcher.clock.advance(by: configuration.statusBatchInterval)
        let session = try await dispatcher.session(nodeID: node, description: nil)
        await dispatcher.waitUntilIdle()
        let before = dispatcher.loopPasses
        for _ in 0..<50 { _ = try dispatcher.heartbeat(nodeID: node, session: session.id) }
        await dispatcher.waitUntilIdle()
        // At most the one pass the READY write's own store event may still owe.
        #expect(dispatcher.loopPasses - before <= 1)
        dispatcher.stop()
        try await running.value
    }

    @Test func runTwiceAtOnceIsRefused() async throws {
        let dispatcher = try Dispatcher(clock: ManualClock(), store: InMemoryDispatcherStore())
        let running = await lead(dispatcher)
        await #expect(throws: DispatcherError.alreadyRunning) { try await dispatcher.run() }
        dispatcher.stop()
        try await running.value
    }

    @Test func aClockTheWheelCannotWaitOnIsRefused() {
        #expect(throws: DispatcherError.self) {
            _ = try Dispatcher(clock: ContinuousBeaconClock(), store: InMemoryDispatcherStore())
        }
    }
}

/// A clock the heartbeat wheel's thread cannot block on.
private struct ContinuousBeaconClock: BeaconClock {
    var now: BeaconInstant { BeaconInstant(nanoseconds: 0) }
    func sleep(until deadline: BeaconInstant, tolerance: Duration?) async throws {}
}
