import BeaconCore
import BeaconMasterWorker
import Testing

/// TiFlow's master-client cases (`master_client_test.go`) on the pure client.
@Suite struct MasterClientTests {
    let worker = Fixture.worker("worker-1")
    let executor1 = Fixture.executor("executor-1")
    let executor2 = Fixture.executor("executor-2")
    let start = Fixture.start

    func client() -> MasterClient {
        MasterClient(
            master: Fixture.master(), worker: worker, workerEpoch: Epoch(rawValue: 7),
            masterInfo: MasterInfo(executor: executor1, epoch: Epoch(rawValue: 1)), startTime: start)
    }

    func pong(sentAt time: BeaconInstant, epoch: Int64 = 1, to worker: WorkerID? = nil, finished: Bool = false)
        -> HeartbeatPong
    {
        HeartbeatPong(
            sendTime: time, replyTime: .zero, toWorker: worker ?? self.worker, masterEpoch: Epoch(rawValue: epoch),
            isFinished: finished)
    }

    func at(_ seconds: Double) -> BeaconInstant { start.advanced(by: .seconds(seconds)) }

    @Test func masterInfoFromTheStoreIsFollowedButNeverMovesBackwards() {
        var client = client()
        client.updateMasterInfo(MasterInfo(executor: executor2, epoch: Epoch(rawValue: 2)))
        #expect(client.masterInfo == MasterInfo(executor: executor2, epoch: Epoch(rawValue: 2)))
        client.updateMasterInfo(MasterInfo(executor: executor1, epoch: Epoch(rawValue: 1)))
        #expect(client.masterInfo.epoch == Epoch(rawValue: 2))
    }

    @Test func pingsCarryTheWorkersViewAndTheExitHandshakeClosesOnlyOnAFinishedPong() throws {
        var client = client()
        #expect(
            client.ping(at: at(1))
                == HeartbeatPing(
                    sendTime: at(1), fromWorker: worker, masterEpoch: Epoch(rawValue: 1),
                    workerEpoch: Epoch(rawValue: 7), isFinished: false))
        #expect(client.receive(pong(sentAt: at(1)), from: executor1) == .accepted)
        #expect(client.lastAcknowledgedPingTime == at(1))
        client.beginExit(at: at(2))
        #expect(client.ping(at: at(2)).isFinished)
        #expect(client.receive(pong(sentAt: at(2)), from: executor1) == .accepted)
        #expect(client.exitPhase == .closing(since: at(2)))
        #expect(client.receive(pong(sentAt: at(2), finished: true), from: executor1) == .exitAcknowledged)
        #expect(client.exitPhase == .closed)
    }

    @Test func pongsForAnotherWorkerOrFromAnOlderMasterAreIgnored() throws {
        var client = client()
        client.updateMasterInfo(MasterInfo(executor: executor1, epoch: Epoch(rawValue: 3)))
        #expect(client.receive(pong(sentAt: at(5), epoch: 2), from: executor1) == .droppedStaleMaster)
        #expect(
            client.receive(pong(sentAt: at(5), epoch: 3, to: Fixture.worker("other")), from: executor1)
                == .droppedOtherWorker)
        #expect(client.lastAcknowledgedPingTime == start)
    }

    @Test func aPongFromANewerMasterSwitchesToIt() throws {
        var client = client()
        _ = client.ping(at: at(1))
        #expect(client.receive(pong(sentAt: at(1), epoch: 2), from: executor2) == .acceptedNewMaster)
        #expect(client.masterInfo == MasterInfo(executor: executor2, epoch: Epoch(rawValue: 2)))
        #expect(client.ping(at: at(2)).masterEpoch == Epoch(rawValue: 2))
    }

    @Test func aMasterThatNeverAnswersTimesOutCountingFromTheStart() {
        let client = client()
        #expect(client.checkMasterTimeout(at: at(60)) == .suicide)
    }

    @Test func theWatchdogIsHealthyThenReloadsThenStopsAtItsThresholds() {
        let client = client()
        #expect(client.checkMasterTimeout(at: at(6)) == .healthy)
        #expect(client.checkMasterTimeout(at: at(6.001)) == .reloadMasterInfo)
        #expect(client.checkMasterTimeout(at: at(9)) == .reloadMasterInfo)
        #expect(client.checkMasterTimeout(at: at(14.999)) == .reloadMasterInfo)
        #expect(client.checkMasterTimeout(at: at(15)) == .suicide)
    }

    @Test func aPongOlderThanTheLastAcknowledgementDoesNotMoveIt() throws {
        var client = client()
        for second in [3.0, 6, 9] { _ = client.ping(at: at(second)) }
        _ = client.receive(pong(sentAt: at(6)), from: executor1)
        _ = client.receive(pong(sentAt: at(3)), from: executor1)
        #expect(client.lastAcknowledgedPingTime == at(6))
        _ = client.receive(pong(sentAt: at(9)), from: executor1)
        #expect(client.lastAcknowledgedPingTime == at(9))
    }

    @Test func anExitAcknowledgementNobodyAskedForIsDroppedWithoutProvingTheMasterAlive() {
        var client = client()
        _ = client.ping(at: at(1))
        #expect(client.receive(pong(sentAt: at(1), finished: true), from: executor1) == .droppedUnannouncedExit)
        #expect(client.exitPhase == .running)
        #expect(client.lastAcknowledgedPingTime == start)
    }

    /// An echo later than every ping sent would move the last acknowledgement past the present,
    /// and the watchdog would never fire.
    @Test func aPongEchoingAPingNeverSentIsDroppedAndTheWatchdogStillFires() {
        var client = client()
        #expect(client.receive(pong(sentAt: at(1)), from: executor1) == .droppedUnsentPing)
        _ = client.ping(at: at(2))
        #expect(client.receive(pong(sentAt: at(3), epoch: 2), from: executor2) == .droppedUnsentPing)
        #expect(client.receive(pong(sentAt: .init(nanoseconds: .max)), from: executor1) == .droppedUnsentPing)
        #expect(client.lastAcknowledgedPingTime == start)
        #expect(client.masterInfo.epoch == Epoch(rawValue: 1))
        #expect(client.checkMasterTimeout(at: at(15)) == .suicide)
        #expect(client.receive(pong(sentAt: at(2)), from: executor1) == .accepted)
        #expect(client.lastAcknowledgedPingTime == at(2))
    }
}
