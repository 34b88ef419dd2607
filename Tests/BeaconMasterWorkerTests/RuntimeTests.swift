import BeaconCore
import BeaconMasterWorker
import BeaconMasterWorkerSQLite
import Synchronization
import Testing

/// The master and worker runtimes over the in-process transport and a real SQLite store, on one
/// ``ManualClock``: timeouts pass when a test advances the clock, so no test waits for real time,
/// and a test shows that nothing happened by waiting until the runtimes' loops are parked on the
/// clock again. The suite's time limit only keeps a broken build from hanging.
@Suite(.timeLimit(.minutes(1))) struct RuntimeTests {
    let clock = ManualClock(start: Fixture.start)
    let masterID = Fixture.master()
    let masterNode = Fixture.executor("master-node")
    let workerNode = Fixture.executor("worker-node")
    let w1 = Fixture.worker("w1")
    /// 50 ms pings; the worker timeout is raised to its floor, 3.1 s, and the master's offline
    /// timeout is 4.1 s. A status is retried every 100 ms for up to a second.
    let configuration = try! TimeoutConfiguration(
        heartbeatInterval: .milliseconds(50), workerTimeout: .milliseconds(1), workerTimeoutGrace: .seconds(1),
        statusRetryInterval: .milliseconds(100), statusDeliveryTimeout: .seconds(1))

    /// The next event on `events`, skipping status updates unless asked for them.
    static func nextEvent(
        _ events: inout AsyncStream<WorkerEvent>.Iterator, skippingStatuses: Bool = true
    ) async throws -> WorkerEvent {
        while let event = await events.next() {
            if skippingStatuses, case .statusUpdated = event { continue }
            return event
        }
        throw MasterWorkerError.masterClosed
    }

    /// A store and a transport, with the suite's IDs and timeouts.
    struct Job {
        let store: SQLiteMasterWorkerStore
        let transport = InProcessTransport()
        let suite: RuntimeTests

        init(_ suite: RuntimeTests, path: String = ":memory:") throws {
            store = try SQLiteMasterWorkerStore(path: path)
            self.suite = suite
        }

        func startMaster(on executor: ExecutorID? = nil) async throws -> MasterRuntime {
            try await MasterRuntime.start(
                id: suite.masterID, executor: executor ?? suite.masterNode, transport: transport, store: store,
                configuration: suite.configuration, clock: suite.clock)
        }

        /// Creates `w1` under `master` and starts it on the worker node. It pings at once, and
        /// then sleeps on the clock until its next ping.
        func startWorker(under master: MasterRuntime, onCancel: @escaping @Sendable () -> Void = {}) async throws
            -> WorkerRuntime
        {
            let epoch = try await master.createWorker(suite.w1, on: suite.workerNode)
            return try await WorkerRuntime.start(
                master: suite.masterID, worker: suite.w1, epoch: epoch, executor: suite.workerNode,
                transport: transport,
                store: store, configuration: suite.configuration, clock: suite.clock, onCancel: onCancel)
        }

        /// Starts a master and `w1` under it, and lets `w1` exit finished: returns the master once
        /// `w1` is its tombstone.
        func masterWithATombstone() async throws -> MasterRuntime {
            let master = try await startMaster()
            var events = master.events.makeAsyncIterator()
            try await startWorker(under: master).exit(.finished)
            while try await RuntimeTests.nextEvent(&events) != .offline(suite.w1, reason: .workerFinished) {}
            #expect(master.workers[suite.w1]?.phase == .tombstone)
            return master
        }

        /// Starts a master and `w1` under it, then kills the master's node: its loops stop and
        /// sends to it fail from then on.
        func startWorkerThenKillTheMaster() async throws -> WorkerRuntime {
            let master = try await startMaster()
            let worker = try await startWorker(under: master)
            master.stop()
            transport.disconnect(suite.masterNode)
            return worker
        }
    }

    @Test func aWorkerComesOnlineReportsAndExitsGracefully() async throws {
        let job = try Job(self, path: try SQLiteStoreTests.temporaryPath())
        let store = job.store
        let master = try await job.startMaster()
        #expect(master.isFirstStart)
        #expect(try await store.loadMaster(masterID)?.state == .initialized)
        var events = master.events.makeAsyncIterator()
        let worker = try await job.startWorker(under: master)
        #expect(try #require(master.workers[w1]).status.epoch > master.epoch)
        #expect(try await Self.nextEvent(&events) == .online(w1, executor: workerNode))
        try await worker.updateStatus(.normal, errorMessage: "", extensionBytes: [1])
        try await worker.exit(.finished)
        #expect(try await Self.nextEvent(&events) == .offline(w1, reason: .workerFinished))
        #expect(try await store.loadWorkerStatuses(master: masterID)[w1]?.state == .finished)
        #expect(master.workers[w1]?.phase == .tombstone)
        try await master.cleanTombstone(w1)
        #expect(try await store.loadWorkerStatuses(master: masterID).isEmpty)
        #expect(master.workers[w1] == nil)
        try await master.exit(.finished, detail: [42])
        let record = try await store.loadMaster(masterID)
        #expect(record?.state == .finished && record?.detail == [42])
        await #expect(throws: MasterWorkerError.masterClosed) { try await master.createWorker(w1, on: workerNode) }
    }

    @Test func statusUpdatesReachTheMasterInOrder() async throws {
        let job = try Job(self)
        let master = try await job.startMaster()
        var events = master.events.makeAsyncIterator()
        let worker = try await job.startWorker(under: master)
        for step in 1...20 { try await worker.updateStatus(.normal, errorMessage: "step \(step)") }
        var seen: [String] = []
        while seen.last != "step 20" {
            if case .statusUpdated(_, let status) = try await Self.nextEvent(&events, skippingStatuses: false),
                status.state == .normal
            {
                seen.append(status.errorMessage)
            }
        }
        #expect(seen == (1...20).map { "step \($0)" })
        worker.stop()
        master.stop()
    }

    @Test func aNewMasterRecoversItsWorkersAndTheyFollowIt() async throws {
        let job = try Job(self, path: try SQLiteStoreTests.temporaryPath())
        let first = try await job.startMaster()
        let worker = try await job.startWorker(under: first)
        let epoch = try #require(first.workers[w1]).status.epoch
        // The first master's node dies: sends to it fail from now on.
        first.stop()
        job.transport.disconnect(masterNode)
        let standby = Fixture.executor("standby-node")
        let starting = Task { try await job.startMaster(on: standby) }
        // Parked: the worker's pings, and the new master waiting for its workers (it has recorded
        // where it runs by then).
        await clock.waitForSleepers(2)
        // A status finds the old node gone, so the worker reads where the master runs now and
        // parks its retry.
        let reporting = Task { try await worker.updateStatus(.normal, errorMessage: "after fail-over") }
        await clock.waitForSleepers(3)
        try clock.advance(by: configuration.statusRetryInterval)
        // The worker's next ping reaches the new master, which ends its recovery.
        let second = try await starting.value
        try await reporting.value
        #expect(!second.isFirstStart)
        #expect(second.epoch > first.epoch)
        #expect(second.workers[w1]?.phase == .online)
        var events = second.events.makeAsyncIterator()
        let event = try await Self.nextEvent(&events, skippingStatuses: false)
        #expect(
            event == .statusUpdated(w1, WorkerStatus(state: .normal, epoch: epoch, errorMessage: "after fail-over")))
        worker.stop()
        second.stop()
    }

    @Test func aRecoveringMasterGivesUpOnSilentWorkersAfterTheOfflineTimeout() async throws {
        let job = try Job(self, path: try SQLiteStoreTests.temporaryPath())
        let first = try await job.startMaster()
        let worker = try await job.startWorker(under: first)
        // The worker and its master die together.
        worker.stop()
        first.stop()
        let starting = Task { try await job.startMaster(on: Fixture.executor("standby-node")) }
        // Parked: the new master's timer only.
        await clock.waitForSleepers(1)
        try clock.advance(by: configuration.offlineTimeout)
        let second = try await starting.value
        #expect(second.workers[w1]?.phase == .tombstone)
        second.stop()
    }

    @Test func aMasterSeeingANewerEpochStepsDown() async throws {
        let job = try Job(self)
        let transport = job.transport
        let master = try await job.startMaster()
        let newer = Epoch(rawValue: master.epoch.rawValue + 5)
        let ping = HeartbeatPing(
            sendTime: .zero, fromWorker: w1, masterEpoch: newer, workerEpoch: Epoch(rawValue: 9), isFinished: false)
        // The master acts on a ping only once its pong could be sent, so the sender needs a mailbox.
        let pongs = try transport.mailbox(
            on: workerNode, topics: [MasterWorkerTopic.pong(master: masterID, worker: w1)], capacity: 4)
        #expect(
            transport.trySend(
                .ping(ping), topic: MasterWorkerTopic.ping(master: masterID), from: workerNode, to: masterNode))
        await #expect(throws: MasterWorkerError.staleMaster(masterID, ownEpoch: master.epoch, seen: newer)) {
            try await master.waitUntilStopped()
        }
        guard case .pong(let pong) = await pongs.nextBatch()?.first?.message else {
            Issue.record("the stale master sent no pong")
            return
        }
        #expect(pong.masterEpoch == master.epoch && pong.toWorker == w1)
    }

    /// A start refused for its own arguments (a mailbox capacity of 0, or the running master's
    /// executor, whose topics are taken) takes nothing over: the running master's epoch and
    /// executor stay on the record, and it keeps running. Before, the refused start had already
    /// saved its epoch, and the running master stepped down at its next worker's ping.
    @Test func aRefusedStartLeavesTheRunningMasterInCharge() async throws {
        let job = try Job(self)
        let master = try await job.startMaster()
        let before = try await job.store.loadMaster(masterID)
        await #expect(throws: MasterWorkerError.self) {
            _ = try await MasterRuntime.start(
                id: masterID, executor: Fixture.executor("other-node"), transport: job.transport, store: job.store,
                configuration: configuration, clock: clock, mailboxCapacity: 0)
        }
        await #expect(throws: MasterWorkerError.self) { _ = try await job.startMaster() }
        await #expect(throws: MasterWorkerError.self) {
            _ = try await MasterRuntime.start(
                id: masterID, executor: Fixture.executor("other-node"), transport: job.transport, store: job.store,
                configuration: configuration, clock: clock, capacity: 0)
        }
        #expect(try await job.store.loadMaster(masterID) == before)
        // Still in charge: a worker created now comes online under it.
        let worker = try await job.startWorker(under: master)
        var events = master.events.makeAsyncIterator()
        #expect(try await Self.nextEvent(&events) == .online(w1, executor: workerNode))
        worker.stop()
        master.stop()
    }

    /// A tombstone of a master that has stopped stays: a newer master may be recovering the
    /// worker from its status.
    @Test func aStoppedMasterCannotCleanATombstone() async throws {
        let job = try Job(self)
        let master = try await job.masterWithATombstone()
        master.stop()
        await #expect(throws: MasterWorkerError.masterClosed) { try await master.cleanTombstone(w1) }
        #expect(try await job.store.loadWorkerStatuses(master: masterID)[w1] != nil)
    }

    /// A master whose record a newer master has taken (it cannot hear of it, but reaches the
    /// store) cleans no tombstone: the store refuses, and the master stops as stale.
    @Test func aMasterReplacedInTheStoreStopsWhenItCleansATombstone() async throws {
        let job = try Job(self)
        let master = try await job.masterWithATombstone()
        let newer = Epoch(rawValue: master.epoch.rawValue + 1)
        var record = try #require(try await job.store.loadMaster(masterID))
        record.epoch = newer
        try await job.store.saveMaster(record)
        let stale = MasterWorkerError.staleMaster(masterID, ownEpoch: master.epoch, seen: newer)
        await #expect(throws: stale) { try await master.cleanTombstone(w1) }
        // Checked without waiting first, so that a master still running fails the test at once.
        let stillCreates = (try? await master.createWorker(Fixture.worker("w2"), on: workerNode)) != nil
        try #require(!stillCreates, "the stale master is still running")
        await #expect(throws: stale) { try await master.waitUntilStopped() }
        #expect(try await job.store.loadWorkerStatuses(master: masterID)[w1] != nil)
    }

    /// A run of a worker whose status write finds a later run's in the store stops: it has
    /// been replaced, and sends nothing.
    @Test func aWorkerWhoseStatusAWorkerRunLaterReplacedStops() async throws {
        let job = try Job(self)
        let master = try await job.startMaster()
        let worker = try await job.startWorker(under: master)
        let own = try #require(master.workers[w1]?.status.epoch)
        let later = Epoch(rawValue: own.rawValue + 10)
        try await job.store.saveWorkerStatus(WorkerStatus(state: .normal, epoch: later), worker: w1, master: masterID)
        let stale = MasterWorkerError.staleWorker(w1, ownEpoch: own, stored: later)
        await #expect(throws: stale) { try await worker.updateStatus(.error, errorMessage: "late") }
        // Checked without waiting first, so that a worker still running fails the test at once.
        let stillReports = (try? await worker.updateStatus(.normal)) != nil
        try #require(!stillReports, "the replaced worker is still running")
        await #expect(throws: stale) { try await worker.waitUntilStopped() }
        #expect(try await job.store.loadWorkerStatuses(master: masterID)[w1]?.epoch == later)
        master.stop()
    }

    @Test func aStopRequestRunsTheCancelHookOnce() async throws {
        let job = try Job(self)
        let master = try await job.startMaster()
        var events = master.events.makeAsyncIterator()
        let cancels = Atomic<Int>(0)
        let (cancelled, cancelledSink) = AsyncStream.makeStream(of: Void.self)
        let worker = try await job.startWorker(under: master) {
            cancels.add(1, ordering: .relaxed)
            cancelledSink.yield()
        }
        #expect(try await Self.nextEvent(&events) == .online(w1, executor: workerNode))
        #expect(try master.requestStop(w1))
        #expect(try master.requestStop(w1))
        var iterator = cancelled.makeAsyncIterator()
        _ = await iterator.next()
        try await worker.exit(.canceled)
        #expect(try await Self.nextEvent(&events) == .offline(w1, reason: .workerCanceled))
        #expect(cancels.load(ordering: .relaxed) == 1)
        master.stop()
    }

    @Test func theExitStatusIsTheLastWordEvenWhenUpdatesRaceIt() async throws {
        let job = try Job(self)
        let master = try await job.startMaster()
        var events = master.events.makeAsyncIterator()
        let worker = try await job.startWorker(under: master)
        let progress = Task {
            var step = 0
            while (try? await worker.updateStatus(.normal, errorMessage: "step \(step)")) != nil { step += 1 }
            return step
        }
        try await worker.exit(.finished)
        _ = await progress.value
        #expect(try await job.store.loadWorkerStatuses(master: masterID)[w1]?.state == .finished)
        var lastStatus: WorkerStatus?
        while true {
            let event = try await Self.nextEvent(&events, skippingStatuses: false)
            if case .statusUpdated(_, let status) = event { lastStatus = status }
            if case .offline(_, let reason) = event {
                #expect(reason == .workerFinished)
                break
            }
        }
        #expect(lastStatus?.state == .finished)
        await #expect(throws: MasterWorkerError.self) { try await worker.updateStatus(.normal) }
        master.stop()
    }

    @Test func aWorkerWhoseMasterDisappearsStopsItselfAtTheWorkerTimeout() async throws {
        let worker = try await Job(self).startWorkerThenKillTheMaster()
        // Parked: the worker's pings only (the master's timer went with it). Its last
        // acknowledged ping was at the start, so it must stop exactly one worker timeout later.
        await clock.waitForSleepers(1)
        try clock.advance(by: configuration.workerTimeout - .milliseconds(1))
        // A worker that stopped would not park again.
        await clock.waitForSleepers(1)
        try clock.advance(by: .milliseconds(1))
        await #expect(throws: MasterWorkerError.workerSuicide(master: masterID)) {
            try await worker.waitUntilStopped()
        }
    }

    /// A worker its master never created (as when a master creates one and crashes before its
    /// successor could know of it) gets no pong, so it stops at its worker timeout, before the
    /// master would create it again. Answered, it used to run on for good.
    @Test func aWorkerTheMasterDoesNotKnowStopsItselfAtTheWorkerTimeout() async throws {
        let job = try Job(self)
        let master = try await job.startMaster()
        let worker = try await WorkerRuntime.start(
            master: masterID, worker: w1, epoch: Epoch(rawValue: 99), executor: workerNode,
            transport: job.transport, store: job.store, configuration: configuration, clock: clock)
        // One ping interval at a time, so that any pong would be heard between pings. Parked
        // each time: the worker's ping loop and the master's timer (with no worker to wait for,
        // it wakes once a second).
        var elapsed = Duration.zero
        while elapsed + configuration.heartbeatInterval < configuration.workerTimeout {
            await clock.waitForSleepers(2)
            try clock.advance(by: configuration.heartbeatInterval)
            elapsed += configuration.heartbeatInterval
        }
        await clock.waitForSleepers(2)
        try clock.advance(by: configuration.workerTimeout - elapsed)
        // `run()`, not `waitUntilStopped()`: a worker kept alive would be stopped when the
        // suite's time limit cancels the test, which then fails instead of hanging.
        await #expect(throws: MasterWorkerError.workerSuicide(master: masterID)) { try await worker.run() }
        master.stop()
    }

    @Test func aMasterDeclaresASilentWorkerOfflineAtTheOfflineTimeout() async throws {
        let job = try Job(self)
        let master = try await job.startMaster()
        var events = master.events.makeAsyncIterator()
        let worker = try await job.startWorker(under: master)
        #expect(try await Self.nextEvent(&events) == .online(w1, executor: workerNode))
        worker.stop()
        // Parked: the master's timer only. Its deadline for the worker is the offline timeout
        // after the worker's only ping, at the start.
        await clock.waitForSleepers(1)
        try clock.advance(by: configuration.offlineTimeout - .milliseconds(1))
        await clock.waitForSleepers(1)
        #expect(master.workers[w1]?.phase == .online)
        // Declared within the wheel's 1 ms slot of the deadline.
        try clock.advance(by: .milliseconds(3))
        #expect(try await Self.nextEvent(&events) == .offline(w1, reason: .workerOffline(w1, lastError: "")))
        master.stop()
    }

    @Test func aStatusNobodyReceivesFailsAfterTheDeliveryTimeout() async throws {
        let worker = try await Job(self).startWorkerThenKillTheMaster()
        let reporting = Task { try await worker.updateStatus(.normal, errorMessage: "lost") }
        // One retry per advance (the delivery timeout is ten retry intervals); the worker's pings,
        // still within its timeout, park alongside.
        for _ in 0..<10 {
            await clock.waitForSleepers(2)
            try clock.advance(by: configuration.statusRetryInterval)
        }
        await #expect(
            throws: MasterWorkerError.statusNotDelivered(master: masterID, after: configuration.statusDeliveryTimeout)
        ) {
            try await reporting.value
        }
        worker.stop()
    }

    @Test func aWorkerCannotStartForAMasterThatNeverRan() async throws {
        let store = try SQLiteMasterWorkerStore(path: ":memory:")
        await #expect(throws: MasterWorkerError.self) {
            try await WorkerRuntime.start(
                master: masterID, worker: w1, epoch: Epoch.first, executor: workerNode, transport: InProcessTransport(),
                store: store)
        }
    }
}
