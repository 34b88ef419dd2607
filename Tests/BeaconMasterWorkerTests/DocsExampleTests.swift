import BeaconMasterWorker
import BeaconMasterWorkerSQLite
import Testing

/// The example of docs/master-worker.md, as written there (default timeouts), on a temporary file.
@Suite(.timeLimit(.minutes(1))) struct DocsExampleTests {
    @Test func theUsageExampleRuns() async throws {
        let path = try SQLiteStoreTests.temporaryPath()
        var seen: [WorkerEvent] = []

        let store = try SQLiteMasterWorkerStore(path: path)
        let transport = InProcessTransport()  // or your own MessageTransport over the network
        let master = try await MasterRuntime.start(
            id: try MasterID("job-7"), executor: try ExecutorID("node-a"), transport: transport, store: store)

        let task = try WorkerID("job-7-task-1")
        let epoch = try await master.createWorker(task, on: try ExecutorID("node-b"))
        let worker = try await WorkerRuntime.start(
            master: master.id, worker: task, epoch: epoch, executor: try ExecutorID("node-b"),
            transport: transport, store: store, onCancel: { print("asked to stop") })

        try await worker.updateStatus(.normal, errorMessage: "", extensionBytes: Array("50%".utf8))
        try await worker.exit(.finished)  // returns once the master acknowledged

        for await event in master.events {
            seen.append(event)
            if case .offline = event { break }
        }
        try await master.cleanTombstone(task)
        try await master.exit(.finished)

        // The first ping and the initial status race, so only the order online → offline is fixed.
        let online = try #require(seen.firstIndex(of: .online(task, executor: try ExecutorID("node-b"))))
        #expect(online < seen.count - 1)
        #expect(seen.last == .offline(task, reason: .workerFinished))
        #expect(
            seen.contains(
                .statusUpdated(task, WorkerStatus(state: .normal, epoch: epoch, extensionBytes: Array("50%".utf8)))))
    }
}
