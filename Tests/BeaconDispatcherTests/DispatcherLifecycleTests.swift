import BeaconCore
import BeaconDispatcher
import BeaconLifecycle
import Logging
import ServiceLifecycle
import Testing

/// The dispatcher under swift-service-lifecycle: a graceful shutdown of the group stops it.
@Suite struct DispatcherLifecycleTests {
    @Test func gracefulShutdownStopsTheDispatcher() async throws {
        let store = InMemoryDispatcherStore()
        let node = nodeID("n")
        let clock = ManualClock()
        let dispatcher = try Dispatcher(clock: clock, store: store)
        let group = ServiceGroup(services: [LifecycleService(dispatcher)], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        await dispatcher.waitUntilIdle()
        store.createNode(node)
        try clock.advance(by: dispatcher.configuration.statusBatchInterval)
        await dispatcher.waitUntilIdle()
        let id = try await dispatcher.session(nodeID: node, description: nil).id
        #expect(throws: Never.self) { _ = try dispatcher.heartbeat(nodeID: node, session: id) }
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(throws: DispatcherError.stopped) { _ = try dispatcher.heartbeat(nodeID: node, session: id) }
    }
}
