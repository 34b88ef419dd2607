import BeaconCore
import BeaconMasterWorker
import Testing

/// TiFlow's worker-manager cases (`worker_manager_test.go`), in virtual time, plus the fences.
@Suite struct WorkerManagerTests {
    let clock = ManualClock(start: Fixture.start)
    let w1 = Fixture.worker("w1")
    let node = Fixture.executor("executor-1")

    @Test func aCreatedWorkerComesOnlineOnceOnItsFirstHeartbeat() throws {
        let manager = try Fixture.manager(clock: clock)
        try manager.workerStarting(w1, on: node, epoch: Epoch(rawValue: 2))
        for _ in 0..<3 {
            try clock.advance(by: .seconds(1))
            #expect(
                try manager.handleHeartbeat(Fixture.ping(w1, workerEpoch: Epoch(rawValue: 2)), from: node) == .accepted)
            try manager.advance()
        }
        #expect(Fixture.drain(manager) == [.online(w1, executor: node)])
        #expect(manager.worker(w1)?.phase == .online)
    }

    @Test func aWorkerThatNeverHeartbeatsGoesOfflineAtTheTimeoutAndNotBefore() throws {
        let manager = try Fixture.manager(clock: clock)
        try manager.workerStarting(w1, on: node, epoch: Epoch(rawValue: 2))
        try clock.advance(by: .seconds(20) - .milliseconds(1))
        try manager.advance()
        #expect(Fixture.drain(manager).isEmpty)
        try clock.advance(by: .seconds(70))
        try manager.advance()
        #expect(Fixture.drain(manager) == [.offline(w1, reason: .workerOffline(w1, lastError: ""))])
        #expect(manager.worker(w1)?.phase == .tombstone)
        try clock.advance(by: .seconds(60))
        try manager.advance()
        #expect(Fixture.drain(manager).isEmpty)
    }

    @Test func aFailedCreationReportsItsErrorAndForgetsTheWorker() throws {
        let manager = try Fixture.manager(clock: clock)
        try manager.workerStarting(w1, on: node, epoch: Epoch(rawValue: 2))
        try manager.workerCreationFailed(w1, error: "no executor has room")
        #expect(Fixture.drain(manager) == [.dispatchFailed(w1, error: "no executor has room")])
        #expect(manager.worker(w1) == nil)
        #expect(throws: MasterWorkerError.unknownWorker(w1)) { try manager.workerCreationFailed(w1, error: "again") }
        try manager.workerStarting(w1, on: node, epoch: Epoch(rawValue: 3))
        try manager.handleHeartbeat(Fixture.ping(w1, workerEpoch: Epoch(rawValue: 3)), from: node)
        #expect(throws: MasterWorkerError.self) { try manager.workerCreationFailed(w1, error: "late") }
    }

    @Test func aStatusUpdateIsDeliveredAndBecomesTheOfflineReason() throws {
        let manager = try Fixture.manager(clock: clock)
        let epoch = Epoch(rawValue: 2)
        try manager.workerStarting(w1, on: node, epoch: epoch)
        try manager.handleHeartbeat(Fixture.ping(w1, workerEpoch: epoch), from: node)
        let finished = WorkerStatus(state: .finished, epoch: epoch)
        try manager.handleStatus(WorkerStatusMessage(worker: w1, masterEpoch: Fixture.masterEpoch, status: finished))
        try clock.advance(by: .seconds(30))
        try manager.advance()
        #expect(
            Fixture.drain(manager) == [
                .online(w1, executor: node), .statusUpdated(w1, finished), .offline(w1, reason: .workerFinished),
            ])
    }

    @Test(arguments: [
        (WorkerState.finished, MasterWorkerError.workerFinished),
        (.stopped, .workerCanceled),
        (.error, .workerFailed("disk full")),
        (.normal, .workerOffline(Fixture.worker("w1"), lastError: "disk full")),
    ])
    func theOfflineReasonFollowsTheLastStatus(state: WorkerState, reason: MasterWorkerError) {
        let status = WorkerStatus(state: state, epoch: Epoch(rawValue: 2), errorMessage: "disk full")
        #expect(WorkerManager<ManualClock>.offlineReason(w1, status) == reason)
    }

    @Test func recoveryWaitsForSilentWorkersThenTombstonesThemWithoutEvents() throws {
        let workers = (1...4).map { Fixture.worker("w\($0)") }
        var persisted: [WorkerID: WorkerStatus] = [:]
        for (offset, worker) in workers.enumerated() {
            persisted[worker] = WorkerStatus(state: .normal, epoch: Epoch(rawValue: Int64(11 + offset)))
        }
        let manager = try Fixture.manager(clock: clock, recovering: persisted)
        #expect(!manager.isReady)
        for (offset, worker) in workers.prefix(3).enumerated() {
            try manager.handleHeartbeat(
                Fixture.ping(worker, workerEpoch: Epoch(rawValue: Int64(11 + offset))), from: node)
        }
        try clock.advance(by: .seconds(19))
        try manager.advance()
        #expect(!manager.isReady)
        try clock.advance(by: .seconds(1))
        try manager.advance()
        #expect(manager.isReady)
        #expect(manager.count == 4)
        #expect(workers.prefix(3).allSatisfy { manager.worker($0)?.phase == .online })
        #expect(manager.worker(workers[3])?.phase == .tombstone)
        #expect(Fixture.drain(manager).isEmpty)
    }

    @Test func recoveryEndsAsSoonAsEveryWorkerHasHeartbeated() throws {
        let manager = try Fixture.manager(
            clock: clock, recovering: [w1: WorkerStatus(state: .normal, epoch: Epoch(rawValue: 5))])
        try manager.handleHeartbeat(Fixture.ping(w1, workerEpoch: Epoch(rawValue: 5)), from: node)
        #expect(manager.isReady)
        #expect(Fixture.drain(manager).isEmpty)
    }

    @Test func recoveryWithNoWorkersIsReadyAtOnceAndSkipsFinishedOnes() throws {
        #expect(try Fixture.manager(clock: clock).isReady)
        let finished = try Fixture.manager(
            clock: clock, recovering: [w1: WorkerStatus(state: .finished, epoch: Epoch(rawValue: 5))])
        #expect(finished.isReady)
        #expect(finished.count == 0)
    }

    @Test func aCleanedTombstoneFreesItsID() throws {
        let manager = try Fixture.manager(clock: clock)
        try manager.workerStarting(w1, on: node, epoch: Epoch(rawValue: 2))
        #expect(throws: MasterWorkerError.self) { try manager.cleanTombstone(w1) }
        try clock.advance(by: .seconds(21))
        try manager.advance()
        #expect(throws: MasterWorkerError.duplicateWorker(w1)) {
            try manager.workerStarting(w1, on: node, epoch: Epoch(rawValue: 3))
        }
        _ = Fixture.drain(manager)
        #expect(try manager.cleanTombstone(w1))
        #expect(try !manager.cleanTombstone(w1))
        try manager.workerStarting(w1, on: node, epoch: Epoch(rawValue: 3))
        #expect(manager.worker(w1)?.phase == .created)
    }

    @Test func aFinishedHeartbeatTakesAnOnlineWorkerOffline() throws {
        let manager = try Fixture.manager(clock: clock)
        let epoch = Epoch(rawValue: 2)
        try manager.workerStarting(w1, on: node, epoch: epoch)
        try manager.handleHeartbeat(Fixture.ping(w1, workerEpoch: epoch), from: node)
        try manager.handleHeartbeat(Fixture.ping(w1, workerEpoch: epoch, finished: true), from: node)
        #expect(
            Fixture.drain(manager) == [
                .online(w1, executor: node), .offline(w1, reason: .workerOffline(w1, lastError: "")),
            ])
        #expect(manager.worker(w1)?.phase == .tombstone)
    }

    @Test func aWorkerFinishedOnItsFirstHeartbeatComesOnlineThenGoesOffline() throws {
        let manager = try Fixture.manager(clock: clock)
        let epoch = Epoch(rawValue: 2)
        try manager.workerStarting(w1, on: node, epoch: epoch)
        try manager.handleHeartbeat(Fixture.ping(w1, workerEpoch: epoch, finished: true), from: node)
        #expect(
            Fixture.drain(manager) == [
                .online(w1, executor: node), .offline(w1, reason: .workerOffline(w1, lastError: "")),
            ])
    }

    @Test func aRecoveredWorkerThatFinishesEndsAsATombstone() throws {
        let w2 = Fixture.worker("w2")
        let manager = try Fixture.manager(
            clock: clock,
            recovering: [
                w1: WorkerStatus(state: .normal, epoch: Epoch(rawValue: 5)),
                w2: WorkerStatus(state: .normal, epoch: Epoch(rawValue: 6)),
            ])
        try manager.handleHeartbeat(Fixture.ping(w1, workerEpoch: Epoch(rawValue: 5), finished: true), from: node)
        #expect(!manager.isReady)
        try manager.handleHeartbeat(Fixture.ping(w2, workerEpoch: Epoch(rawValue: 6)), from: node)
        #expect(manager.isReady)
        #expect(manager.worker(w1)?.phase == .tombstone)
        #expect(manager.worker(w2)?.phase == .online)
        #expect(Fixture.drain(manager).isEmpty)
    }

    @Test func heartbeatsFromAnOlderWorkerEpochDoNotKeepItAlive() throws {
        let manager = try Fixture.manager(clock: clock)
        let epoch = Epoch(rawValue: 3)
        try manager.workerStarting(w1, on: node, epoch: epoch)
        try manager.handleHeartbeat(Fixture.ping(w1, workerEpoch: epoch), from: node)
        for _ in 0..<10 {
            try clock.advance(by: .seconds(3))
            #expect(
                try manager.handleHeartbeat(Fixture.ping(w1, workerEpoch: Epoch(rawValue: 2)), from: node)
                    == .droppedStaleWorkerEpoch)
            try manager.advance()
        }
        #expect(
            Fixture.drain(manager) == [
                .online(w1, executor: node), .offline(w1, reason: .workerOffline(w1, lastError: "")),
            ])
    }

    @Test func aNewerMasterEpochMeansThisMasterIsStaleAndAnOlderOneIsDropped() throws {
        let manager = try Fixture.manager(clock: clock)
        let epoch = Epoch(rawValue: 2)
        try manager.workerStarting(w1, on: node, epoch: epoch)
        #expect(
            throws: MasterWorkerError.staleMaster(
                Fixture.master(), ownEpoch: Fixture.masterEpoch, seen: Epoch(rawValue: 9))
        ) {
            try manager.handleHeartbeat(
                Fixture.ping(w1, workerEpoch: epoch, masterEpoch: Epoch(rawValue: 9)), from: node)
        }
        #expect(throws: MasterWorkerError.self) {
            try manager.handleStatus(
                WorkerStatusMessage(
                    worker: w1, masterEpoch: Epoch(rawValue: 9), status: WorkerStatus(state: .normal, epoch: epoch)))
        }
        #expect(
            try manager.handleHeartbeat(
                Fixture.ping(w1, workerEpoch: epoch, masterEpoch: Epoch(rawValue: 0)), from: node)
                == .droppedStaleMasterEpoch)
        #expect(
            try manager.handleHeartbeat(Fixture.ping(Fixture.worker("ghost"), workerEpoch: epoch), from: node)
                == .droppedUnknownWorker)
        #expect(
            try manager.handleHeartbeat(Fixture.ping(w1, workerEpoch: Epoch(rawValue: 7)), from: node)
                == .droppedUnknownWorkerEpoch)
        #expect(manager.worker(w1)?.phase == .created)
        #expect(Fixture.drain(manager).isEmpty)
    }

    /// A ping from an earlier master epoch is answered whoever sent it, so its worker learns this
    /// master; its exit is not acknowledged, since this master did not take the ping in.
    @Test func aPingOfAnotherMasterEpochIsAnsweredWithThisOneAndNoExit() throws {
        let manager = try Fixture.manager(clock: clock)
        let ping = Fixture.ping(
            Fixture.worker("anyone"), workerEpoch: Epoch(rawValue: 4), masterEpoch: Epoch(rawValue: 0), finished: true,
            at: BeaconInstant(nanoseconds: 77))
        try clock.advance(by: .seconds(2))
        #expect(
            manager.answer(to: ping)
                == HeartbeatPong(
                    sendTime: BeaconInstant(nanoseconds: 77), replyTime: clock.now, toWorker: ping.fromWorker,
                    masterEpoch: Fixture.masterEpoch, isFinished: false))
    }

    /// Pongs keep a worker's watchdog quiet: a running worker the master does not count (never
    /// created here, of another epoch, offline) hears nothing and stops on its own, instead of
    /// running beside the copy that replaces it. One it counts gets its fields echoed.
    @Test func onlyTheWorkersTheMasterCountsAreAnswered() throws {
        let manager = try Fixture.manager(clock: clock)
        let epoch = Epoch(rawValue: 2)
        try manager.workerStarting(w1, on: node, epoch: epoch)
        let finished = Fixture.ping(w1, workerEpoch: epoch, finished: true, at: BeaconInstant(nanoseconds: 77))
        #expect(manager.answer(to: finished)?.isFinished == true)
        #expect(manager.answer(to: finished)?.sendTime == BeaconInstant(nanoseconds: 77))
        #expect(manager.answer(to: Fixture.ping(Fixture.worker("unknown"), workerEpoch: epoch)) == nil)
        #expect(manager.answer(to: Fixture.ping(w1, workerEpoch: Epoch(rawValue: 1))) == nil)
        #expect(manager.answer(to: Fixture.ping(w1, workerEpoch: Epoch(rawValue: 3))) == nil)
        try manager.handleHeartbeat(Fixture.ping(w1, workerEpoch: epoch), from: node)
        try clock.advance(by: .seconds(21))
        _ = try manager.advance()
        #expect(manager.worker(w1)?.phase != .online)
        #expect(manager.answer(to: Fixture.ping(w1, workerEpoch: epoch)) == nil)
        // An exit is acknowledged whoever announces it: acknowledged, a worker stops, and one
        // whose exit the previous master took in is not recovered (its status is finished).
        #expect(manager.answer(to: Fixture.ping(w1, workerEpoch: epoch, finished: true))?.isFinished == true)
        let unknown = Fixture.ping(Fixture.worker("unknown"), workerEpoch: epoch, finished: true)
        #expect(manager.answer(to: unknown)?.isFinished == true)
    }

    @Test func statusesForOfflineWorkersAreDroppedAndStatusChangeNeedsAnOnlineWorker() throws {
        let manager = try Fixture.manager(clock: clock)
        let epoch = Epoch(rawValue: 2)
        try manager.workerStarting(w1, on: node, epoch: epoch)
        #expect(throws: MasterWorkerError.self) { try manager.statusChangeRequest(for: w1, expecting: .stopped) }
        try manager.handleHeartbeat(Fixture.ping(w1, workerEpoch: epoch), from: node)
        let (request, executor) = try manager.statusChangeRequest(for: w1, expecting: .stopped)
        #expect(executor == node)
        #expect(request.expectedState == .stopped && request.masterEpoch == Fixture.masterEpoch)
        try clock.advance(by: .seconds(21))
        try manager.advance()
        let late = WorkerStatusMessage(
            worker: w1, masterEpoch: Fixture.masterEpoch, status: WorkerStatus(state: .normal, epoch: epoch))
        #expect(try manager.handleStatus(late) == .droppedOfflineWorker)
        #expect(try manager.handleHeartbeat(Fixture.ping(w1, workerEpoch: epoch), from: node) == .droppedOfflineWorker)
    }

    @Test func aStatusFromAnotherRunOfTheWorkerIsDroppedAndCannotFenceTheCurrentRun() throws {
        let manager = try Fixture.manager(clock: clock)
        let previous = Epoch(rawValue: 2)
        let current = Epoch(rawValue: 5)
        try manager.workerStarting(w1, on: node, epoch: previous)
        try clock.advance(by: .seconds(21))
        try manager.advance()
        _ = Fixture.drain(manager)
        try manager.cleanTombstone(w1)
        try manager.workerStarting(w1, on: node, epoch: current)
        let late = WorkerStatusMessage(
            worker: w1, masterEpoch: Fixture.masterEpoch, status: WorkerStatus(state: .normal, epoch: previous))
        #expect(try manager.handleStatus(late) == .droppedStaleWorkerEpoch)
        let future = WorkerStatusMessage(
            worker: w1, masterEpoch: Fixture.masterEpoch,
            status: WorkerStatus(state: .normal, epoch: Epoch(rawValue: 9)))
        #expect(try manager.handleStatus(future) == .droppedUnknownWorkerEpoch)
        #expect(try manager.handleHeartbeat(Fixture.ping(w1, workerEpoch: current), from: node) == .accepted)
        #expect(Fixture.drain(manager) == [.online(w1, executor: node)])
    }

    @Test func aMasterThatResumesLateDeclaresEverySilentWorkerOffline() throws {
        let manager = try Fixture.manager(clock: clock)
        let w2 = Fixture.worker("w2")
        try manager.workerStarting(w1, on: node, epoch: Epoch(rawValue: 2))
        try clock.advance(by: .seconds(5))
        try manager.workerStarting(w2, on: node, epoch: Epoch(rawValue: 3))
        // Paused long past both deadlines (20 s and 25 s): both are offline when it resumes,
        // as their workers have stopped themselves meanwhile.
        try clock.advance(by: .seconds(85))
        try manager.advance()
        #expect(
            Set(Fixture.drain(manager)) == [
                .offline(w1, reason: .workerOffline(w1, lastError: "")),
                .offline(w2, reason: .workerOffline(w2, lastError: "")),
            ])
    }

    @Test func aClockGoingBackwardsIsAnErrorNotATrap() throws {
        final class BrokenClock: BeaconClock, @unchecked Sendable {
            var reading = BeaconInstant(nanoseconds: 10_000_000_000)
            var now: BeaconInstant { reading }
            func sleep(until deadline: BeaconInstant, tolerance: Duration?) async throws {}
        }
        let clock = BrokenClock()
        let manager = try WorkerManager(
            master: Fixture.master(), epoch: Fixture.masterEpoch, clock: clock, capacity: 16)
        clock.reading = BeaconInstant(nanoseconds: 12_000_000_000)
        try manager.advance()
        clock.reading = BeaconInstant(nanoseconds: 11_000_000_000)
        #expect(throws: MasterWorkerError.self) { try manager.advance() }
    }
}
