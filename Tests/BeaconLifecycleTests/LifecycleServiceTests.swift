import BeaconClient
import BeaconCore
import BeaconDispatcher
import BeaconLifecycle
import BeaconMasterWorker
import BeaconMasterWorkerSQLite
import Logging
import ServiceLifecycle
import Testing

/// Beacon's long-running services under one `ServiceGroup` through the one adapter, each on a
/// manual clock of its own (so each one's sleepers can be counted apart).
@Suite(.timeLimit(.minutes(1))) struct LifecycleServiceTests {
    @Test func aGracefulShutdownStopsEveryService() async throws {
        let dispatcherClock = ManualClock()
        let dispatcherStore = CancellationRefusingStore()
        let node = try dispatcherStore.carriedOverNode("carried-over")
        let dispatcher = try Dispatcher(clock: dispatcherClock, store: dispatcherStore)

        let managerClock = ManualClock()
        let manager = ServerManager(pinger: AlwaysHealthy(), cluster: SmallCluster(), clock: managerClock)
        manager.add(try ManagedServer(name: "s1", address: "10.0.0.1:8300"))

        let master = try await MasterRuntime.start(
            id: try MasterID("job-7"), executor: try ExecutorID("node-a"), transport: InProcessTransport(),
            store: try SQLiteMasterWorkerStore(path: ":memory:"), clock: ManualClock())

        let group = ServiceGroup(
            services: [LifecycleService(master), LifecycleService(manager), LifecycleService(dispatcher)],
            logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        // Leading, with the carried-over node's UNKNOWN write queued for the first flush, which
        // the clock never reaches; the manager parked on its rebalance timer.
        await dispatcher.waitUntilIdle()
        await managerClock.waitForSleepers(1)
        #expect(dispatcherStore.node(node)?.status.state == .ready)

        await group.triggerGracefulShutdown()
        try await running.value

        // The dispatcher committed its queued write on the way out, and refuses calls.
        #expect(dispatcherStore.node(node)?.status.state == .unknown)
        #expect(dispatcherClock.sleeperCount == 0)
        #expect(throws: DispatcherError.stopped) {
            _ = try dispatcher.heartbeat(nodeID: node, session: try SessionID("00000000000000000000000000000001"))
        }
        // The manager no longer waits for its timer.
        #expect(managerClock.sleeperCount == 0)
        // The master stopped: its events ended.
        var events = master.events.makeAsyncIterator()
        while await events.next() != nil {}
        try await master.waitUntilStopped()
    }

    /// A service that fails ends the group, and the others are shut down with it.
    @Test func aFailingServiceShutsTheOthersDown() async throws {
        let managerClock = ManualClock()
        let manager = ServerManager(pinger: AlwaysHealthy(), cluster: SmallCluster(), clock: managerClock)
        let dispatcher = try Dispatcher(clock: ManualClock(), store: InMemoryDispatcherStore())
        let leading = Task { try await dispatcher.run() }
        await dispatcher.waitUntilIdle()
        // The dispatcher already leads elsewhere, so its service fails at start.
        let group = ServiceGroup(
            services: [LifecycleService(manager), LifecycleService(dispatcher)], logger: Logger(label: "test"))
        await #expect(throws: DispatcherError.alreadyRunning) { try await group.run() }
        #expect(managerClock.sleeperCount == 0)
        leading.cancel()
        try await leading.value
    }
}

private struct AlwaysHealthy: Pinger {
    func ping(_ server: ManagedServer) async -> Bool { true }
}

private struct SmallCluster: ClusterInfo {
    var nodeCount: Int { 3 }
}
