import BeaconCore
import BeaconMasterWorker
import Testing

/// TiFlow's worker cases (`worker_test.go`, `statusutil`) on the pure session, in virtual time.
@Suite struct WorkerSessionTests {
    let worker = Fixture.worker("worker-1")
    let masterNode = Fixture.executor("executor-1")
    let start = Fixture.start
    let epoch = Epoch(rawValue: 7)

    func session(startTime: BeaconInstant? = nil) -> WorkerSession {
        let client = MasterClient(
            master: Fixture.master(), worker: worker, workerEpoch: epoch,
            masterInfo: MasterInfo(executor: masterNode, epoch: Epoch(rawValue: 1)), startTime: startTime ?? start)
        return WorkerSession(client: client, at: start)
    }

    /// Runs the session's ticks until `end`, answering every ping at once unless `answer` is
    /// false; returns every action with the instant it came.
    func run(_ session: inout WorkerSession, until end: BeaconInstant, answer: Bool) throws -> [(
        BeaconInstant, WorkerSession.Action
    )] {
        var log: [(BeaconInstant, WorkerSession.Action)] = []
        var now = start
        while now <= end {
            for action in session.tick(at: now) {
                log.append((now, action))
                if case .sendPing(let ping, _) = action, answer {
                    let pong = HeartbeatPong(
                        sendTime: ping.sendTime, replyTime: now, toWorker: worker, masterEpoch: ping.masterEpoch,
                        isFinished: ping.isFinished)
                    _ = session.receive(pong, from: masterNode)
                }
                if case .suicide = action { return log }
                if case .exitNotAcknowledged = action { return log }
            }
            now = session.nextTick
        }
        return log
    }

    @Test func pingsGoOutOneIntervalApartToTheMastersExecutor() throws {
        var session = session()
        let log = try run(&session, until: start.advanced(by: .seconds(300)), answer: true)
        let pings = log.compactMap { entry -> HeartbeatPing? in
            if case .sendPing(let ping, let executor) = entry.1, executor == masterNode { return ping }
            return nil
        }
        #expect(pings.count == 101)
        for (earlier, later) in zip(pings, pings.dropFirst()) {
            #expect(later.sendTime >= earlier.sendTime.advanced(by: .seconds(3)))
        }
        #expect(log.allSatisfy { if case .sendPing = $0.1 { true } else { false } })
    }

    @Test func aSilentMasterMakesTheWorkerReloadThenStopAtExactlyTheTimeout() throws {
        var session = session()
        let log = try run(&session, until: start.advanced(by: .seconds(60)), answer: false)
        let reloads = log.filter { $0.1 == .reloadMasterInfo }.map { $0.0 }
        #expect(reloads.first == start.advanced(by: .seconds(9)))
        #expect(log.last?.1 == .suicide)
        #expect(log.last?.0 == start.advanced(by: .seconds(15)))
    }

    @Test func aWorkerSubmittedLongAgoStopsAtItsFirstTick() {
        var session = session(startTime: start.advanced(by: .seconds(-30)))
        #expect(session.tick(at: start) == [.suicide])
    }

    @Test func anUnacknowledgedExitGivesUpAfterItsTimeoutAndNotBefore() throws {
        var session = session()
        _ = session.tick(at: start)
        let pongAt = start
        _ = session.receive(
            HeartbeatPong(
                sendTime: pongAt, replyTime: pongAt, toWorker: worker, masterEpoch: Epoch(rawValue: 1),
                isFinished: false), from: masterNode)
        session.beginExit(at: start.advanced(by: .seconds(1)))
        // The master keeps acknowledging pings but never the finished flag.
        var now = start.advanced(by: .seconds(1))
        var outcome: (BeaconInstant, WorkerSession.Action)?
        while outcome == nil {
            for action in session.tick(at: now) {
                switch action {
                case .sendPing(let ping, _):
                    #expect(ping.isFinished)
                    _ = session.receive(
                        HeartbeatPong(
                            sendTime: ping.sendTime, replyTime: now, toWorker: worker, masterEpoch: Epoch(rawValue: 1),
                            isFinished: false), from: masterNode)
                default:
                    outcome = (now, action)
                }
            }
            now = session.nextTick
        }
        #expect(outcome?.1 == .exitNotAcknowledged)
        #expect(outcome?.0 == start.advanced(by: .seconds(16)))
    }

    @Test func aMasterThatFallsSilentDuringAnExitEndsItAtTheWorkerTimeout() {
        var session = session()
        _ = session.tick(at: start)
        _ = session.receive(
            HeartbeatPong(
                sendTime: start, replyTime: start, toWorker: worker, masterEpoch: Epoch(rawValue: 1), isFinished: false),
            from: masterNode)
        session.beginExit(at: start.advanced(by: .seconds(10)))
        var now = start.advanced(by: .seconds(10))
        var outcome: (BeaconInstant, WorkerSession.Action)?
        while outcome == nil {
            for action in session.tick(at: now) where action != .reloadMasterInfo {
                if case .sendPing = action { continue }
                outcome = (now, action)
            }
            now = session.nextTick
        }
        // Silent since the pong at `start`: the exit ends when the silence reaches 15 s, the
        // instant a running worker would have stopped, and says it was leaving.
        #expect(outcome?.1 == .exitNotAcknowledged)
        #expect(outcome?.0 == start.advanced(by: .seconds(15)))
    }

    @Test func onlySignificantChangesArePersistedButEveryUpdateIsSent() {
        var session = session()
        let first = session.prepareStatus(state: .initialized)
        #expect(first.mustPersist)
        session.statusPersisted(first.status)
        let repeated = session.prepareStatus(state: .initialized)
        let extensionOnly = session.prepareStatus(state: .initialized, extensionBytes: [1, 2, 3])
        #expect(!repeated.mustPersist && !extensionOnly.mustPersist)
        let failing = session.prepareStatus(state: .initialized, errorMessage: "slow disk")
        #expect(failing.mustPersist)
        #expect(failing.status.epoch == epoch)
        let (message, executor) = session.statusMessage(for: failing.status)
        #expect(executor == masterNode && message.masterEpoch == Epoch(rawValue: 1) && message.worker == worker)
    }

    @Test(arguments: [
        (ExitReason.finished, nil as String?, WorkerState.finished, ""),
        (.finished, "done early", .finished, "done early"),
        (.canceled, nil, .stopped, ""),
        (.canceled, "user request", .stopped, "user request"),
        (.failed, nil, .error, ""),
        (.failed, "checksum mismatch", .error, "checksum mismatch"),
    ])
    func anExitPersistsTheStateOfItsReason(reason: ExitReason, error: String?, state: WorkerState, message: String) {
        let status = WorkerSession.exitStatus(reason, error: error, extensionBytes: [9], epoch: epoch)
        #expect(status == WorkerStatus(state: state, epoch: epoch, errorMessage: message, extensionBytes: [9]))
    }

    @Test func onlyTheFirstStopRequestFromTheCurrentMasterCancels() {
        var session = session()
        func request(_ state: WorkerState, epoch: Int64 = 1, from master: MasterID = Fixture.master())
            -> StatusChangeRequest
        {
            StatusChangeRequest(
                sendTime: start, fromMaster: master, masterEpoch: Epoch(rawValue: epoch), expectedState: state)
        }
        session.masterInfoLoaded(MasterInfo(executor: masterNode, epoch: Epoch(rawValue: 2)))
        let answers = [
            request(.stopped, epoch: 1), request(.finished, epoch: 2),
            request(.stopped, epoch: 3, from: Fixture.master("job-2")),
            request(.stopped, epoch: 2), request(.stopped, epoch: 2),
        ].map { session.statusChangeRequested($0) }
        #expect(answers == [false, false, false, true, false])
    }

    @Test(arguments: [
        (Duration.seconds(3), Duration.seconds(15), Duration.seconds(15)),
        (.seconds(3), .seconds(1), .seconds(9)),
        (.milliseconds(100), .milliseconds(50), .milliseconds(3200)),
    ])
    func theWorkerTimeoutIsRaisedToTwoIntervalsPlusThreeSeconds(
        interval: Duration, requested: Duration, adjusted: Duration
    ) throws {
        let configuration = try TimeoutConfiguration(heartbeatInterval: interval, workerTimeout: requested)
        #expect(configuration.workerTimeout == adjusted)
        #expect(configuration.offlineTimeout == adjusted + .seconds(5))
    }

    @Test func invalidTimeoutsAreRefusedWithTheirName() {
        #expect(throws: MasterWorkerError.invalidConfiguration("heartbeatInterval must be positive, got 0.0 seconds")) {
            try TimeoutConfiguration(heartbeatInterval: .zero)
        }
        #expect(throws: MasterWorkerError.self) { try TimeoutConfiguration(workerTimeoutGrace: .zero) }
        #expect(throws: MasterWorkerError.self) { try TimeoutConfiguration(workerTimeout: .seconds(7200)) }
    }
}
