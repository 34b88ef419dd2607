import BeaconClient
import BeaconCore
import BeaconDispatcher
import BeaconLifecycle
import Logging
import ServiceLifecycle
import Testing

/// The getting-started example of BeaconLifecycle's documentation catalog
/// (Sources/BeaconLifecycle/BeaconLifecycle.docc/GettingStarted.md), verbatim inside the test body.
@Suite(.timeLimit(.minutes(1))) struct LifecycleDocsExampleTests {
    @Test func gettingStartedExample() async throws {
        let clock = ManualClock()  // production code leaves it out
        let dispatcher = try Dispatcher(clock: clock, store: InMemoryDispatcherStore())
        let manager = ServerManager(pinger: AlwaysAnswers(), cluster: ThreeNodes(), clock: clock)
        let group = ServiceGroup(
            services: [LifecycleService(dispatcher), LifecycleService(manager)],
            logger: Logger(label: "beacon"))  // add gracefulShutdownSignals: [.sigterm]
        let running = Task { try await group.run() }
        await dispatcher.waitUntilIdle()  // leading
        await group.triggerGracefulShutdown()  // what SIGTERM does
        try await running.value  // both services have cleaned up

        #expect(clock.sleeperCount == 0)
        #expect(throws: DispatcherError.stopped) {
            _ = try dispatcher.heartbeat(
                nodeID: try NodeID("node-1"), session: try SessionID("00000000000000000000000000000001"))
        }
    }
}

/// A health check that every server passes; a real one dials the server.
private struct AlwaysAnswers: Pinger {
    func ping(_ server: ManagedServer) async -> Bool { true }
}

/// The cluster's size, which scales the rebalance interval.
private struct ThreeNodes: ClusterInfo {
    var nodeCount: Int { 3 }
}
