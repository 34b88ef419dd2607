import BeaconCore
import BeaconDispatcher
import BeaconMasterWorker
import BeaconMasterWorkerSQLite
import Testing

/// Cancelling the task of a `run()` ends it, each service cleaning up first; all on manual clocks.
@Suite(.timeLimit(.minutes(1))) struct RunCancellationTests {
    @Test func cancellingTheDispatchersRunCommitsItsQueuedWrites() async throws {
        let clock = ManualClock()
        let store = CancellationRefusingStore()
        let node = try store.carriedOverNode("carried-over")
        let dispatcher = try Dispatcher(clock: clock, store: store)
        let running = Task { try await dispatcher.run() }
        await dispatcher.waitUntilIdle()
        // The UNKNOWN write waits for a flush one batch interval away.
        #expect(store.node(node)?.status.state == .ready)
        running.cancel()
        try await running.value
        // The store refuses a cancelled task's commit: the write got through uncancelled.
        #expect(store.node(node)?.status.state == .unknown)
        #expect(clock.sleeperCount == 0)
        // Cancelled, it stopped: it can lead again.
        let again = Task { try await dispatcher.run() }
        await dispatcher.waitUntilIdle()
        dispatcher.stop()
        try await again.value
    }

    @Test func cancellingTheMasterAndWorkerRunsStopsThem() async throws {
        let clock = ManualClock()
        let store = try SQLiteMasterWorkerStore(path: ":memory:")
        let transport = InProcessTransport()
        let configuration = try TimeoutConfiguration(
            heartbeatInterval: .milliseconds(50), workerTimeout: .milliseconds(1), workerTimeoutGrace: .seconds(1),
            statusRetryInterval: .milliseconds(100), statusDeliveryTimeout: .seconds(1))
        let master = try await MasterRuntime.start(
            id: try MasterID("job-7"), executor: try ExecutorID("node-a"), transport: transport, store: store,
            configuration: configuration, clock: clock)
        let workerID = try WorkerID("job-7-task-1")
        let epoch = try await master.createWorker(workerID, on: try ExecutorID("node-b"))
        let worker = try await WorkerRuntime.start(
            master: master.id, worker: workerID, epoch: epoch, executor: try ExecutorID("node-b"),
            transport: transport, store: store, configuration: configuration, clock: clock)

        let workerRun = Task { try await worker.run() }
        let masterRun = Task { try await master.run() }
        workerRun.cancel()
        try await workerRun.value
        // Stopped: a status update is refused.
        await #expect(throws: MasterWorkerError.self) { try await worker.updateStatus(.normal) }

        masterRun.cancel()
        try await masterRun.value
        var events = master.events.makeAsyncIterator()
        while await events.next() != nil {}
        await #expect(throws: MasterWorkerError.masterClosed) {
            _ = try await master.createWorker(try WorkerID("job-7-task-2"), on: try ExecutorID("node-b"))
        }
    }
}
