import BeaconCore

/// The receivers a decoded message reaches in `MasterWorkerMessageFuzz`, each beside a plain
/// model of the rules it applies on receipt.
///
/// A master (`job-7`, epoch 5) holds `w-created` (epoch 6, never pinged), `w-online` (epoch 7),
/// `w-gone` (epoch 8, a tombstone) and, when it is recovering from a fail-over, `w-waiting`
/// (epoch 3). Its pings and statuses go to that master's ``WorkerManager``; pongs and
/// status-change requests go to `w-online`'s ``WorkerSession``, which follows the master at
/// epoch 5, has pinged once, 96 ms after the start (half of the send times the message model
/// draws come after it), and may be leaving.
///
/// Not for use outside the fuzz harness and its tests.
struct MasterWorkerReceiverModel {
    struct Known {
        var epoch: Epoch
        var phase: WorkerPhase
    }

    let master: MasterID
    let recovering: Bool
    let leaving: Bool
    let masterEpoch = Epoch(rawValue: 5)
    let start = BeaconInstant(nanoseconds: 1_000_000_000_000)
    var latestPing: BeaconInstant { start.advanced(by: .milliseconds(96)) }
    let clock: ManualClock
    let manager: WorkerManager<ManualClock>
    var session: WorkerSession
    let workerNode: ExecutorID
    let masterNode: ExecutorID
    /// Where pongs come from: another executor than the one the worker follows, so adopting a
    /// new master shows.
    let pongNode: ExecutorID
    let online: WorkerID
    var known: [WorkerID: Known] = [:]

    init(scenario: Int) throws(MasterWorkerError) {
        recovering = scenario & 1 == 1
        leaving = scenario & 2 == 2
        master = try MasterID("job-7")
        workerNode = try ExecutorID("node-b")
        masterNode = try ExecutorID("node-a")
        pongNode = try ExecutorID("node-c")
        online = try WorkerID("w-online")
        let created = try WorkerID("w-created")
        let gone = try WorkerID("w-gone")
        let waiting = try WorkerID("w-waiting")
        clock = ManualClock(start: start)
        // The smallest timeouts keep the wheel built for every input small.
        let configuration = try TimeoutConfiguration(
            heartbeatInterval: .milliseconds(1), workerTimeout: .seconds(3), workerTimeoutGrace: .milliseconds(1))
        manager = try WorkerManager(
            master: master, epoch: masterEpoch, configuration: configuration, clock: clock,
            recovering: recovering ? [waiting: WorkerStatus(state: .normal, epoch: Epoch(rawValue: 3))] : [:],
            capacity: 16)
        if recovering { known[waiting] = Known(epoch: Epoch(rawValue: 3), phase: .waiting) }
        for (worker, epoch, pings) in [(created, 6, [Bool]()), (online, 7, [false]), (gone, 8, [true])] {
            try manager.workerStarting(worker, on: workerNode, epoch: Epoch(rawValue: Int64(epoch)))
            for finished in pings {
                try manager.handleHeartbeat(
                    HeartbeatPing(
                        sendTime: start, fromWorker: worker, masterEpoch: masterEpoch,
                        workerEpoch: Epoch(rawValue: Int64(epoch)),
                        isFinished: finished),
                    from: workerNode)
            }
        }
        while manager.nextEvent() != nil {}
        known[created] = Known(epoch: Epoch(rawValue: 6), phase: .created)
        known[online] = Known(epoch: Epoch(rawValue: 7), phase: .online)
        known[gone] = Known(epoch: Epoch(rawValue: 8), phase: .tombstone)
        session = WorkerSession(
            client: MasterClient(
                master: master, worker: online, workerEpoch: Epoch(rawValue: 7),
                masterInfo: MasterInfo(executor: masterNode, epoch: masterEpoch), startTime: start,
                configuration: configuration),
            at: start)
        _ = session.tick(at: latestPing)
        if leaving { session.beginExit(at: start) }
    }

    /// Delivers `message` to its receiver; returns how the receiver and the model disagree.
    mutating func deliver(_ message: MasterWorkerMessage) -> String? {
        switch message {
        case .ping(let ping): return deliver(ping)
        case .status(let status): return deliver(status)
        case .pong(let pong): return deliver(pong)
        case .statusChange(let request): return deliver(request)
        }
    }

    // MARK: Master

    /// The fences every ping and status passes first, in TiFlow's order.
    func fence(masterEpoch: Epoch, worker: WorkerID, workerEpoch: Epoch) -> Result<Known, MasterWorkerError>? {
        if masterEpoch > self.masterEpoch {
            return .failure(.staleMaster(master, ownEpoch: self.masterEpoch, seen: masterEpoch))
        }
        if masterEpoch < self.masterEpoch { return nil }
        guard let entry = known[worker] else { return nil }
        return workerEpoch == entry.epoch ? .success(entry) : nil
    }

    func expectedDrop(masterEpoch: Epoch, worker: WorkerID, workerEpoch: Epoch) -> MessageVerdict {
        if masterEpoch < self.masterEpoch { return .droppedStaleMasterEpoch }
        guard let entry = known[worker] else { return .droppedUnknownWorker }
        return workerEpoch < entry.epoch ? .droppedStaleWorkerEpoch : .droppedUnknownWorkerEpoch
    }

    mutating func deliver(_ ping: HeartbeatPing) -> String? {
        // A ping from another master epoch is answered with this one's, its finished flag not
        // echoed; one of this epoch if it is finished, or if its worker is counted: known, of its
        // epoch, live.
        let pong = manager.answer(to: ping)
        var expectedPong: HeartbeatPong? = HeartbeatPong(
            sendTime: ping.sendTime, replyTime: clock.now, toWorker: ping.fromWorker, masterEpoch: masterEpoch,
            isFinished: ping.isFinished && ping.masterEpoch == masterEpoch)
        if ping.masterEpoch == masterEpoch, !ping.isFinished {
            let counted = known[ping.fromWorker].map {
                $0.epoch == ping.workerEpoch && $0.phase != .offline && $0.phase != .tombstone
            }
            if counted != true { expectedPong = nil }
        }
        if pong != expectedPong {
            return "the pong to \(ping) was \(String(describing: pong)), expected \(String(describing: expectedPong))"
        }
        let worker = ping.fromWorker
        var expected: Result<MessageVerdict, MasterWorkerError>
        var events: [WorkerEvent] = []
        var phase = known[worker]?.phase
        switch fence(masterEpoch: ping.masterEpoch, worker: worker, workerEpoch: ping.workerEpoch) {
        case .failure(let error)?:
            expected = .failure(error)
        case nil:
            expected = .success(
                expectedDrop(masterEpoch: ping.masterEpoch, worker: worker, workerEpoch: ping.workerEpoch))
        case .success(let entry):
            expected = .success(.accepted)
            let offline = WorkerEvent.offline(worker, reason: .workerOffline(worker, lastError: ""))
            switch entry.phase {
            case .created:
                events = [.online(worker, executor: workerNode)] + (ping.isFinished ? [offline] : [])
                phase = ping.isFinished ? .tombstone : .online
            case .online:
                // A finished ping takes a worker offline, but not while recovery is still waiting.
                let leaves = ping.isFinished && !recovering
                events = leaves ? [offline] : []
                phase = leaves ? .tombstone : .online
            case .waiting:
                // The only waiting worker: its ping ends the recovery, which retires a worker
                // that announced its exit without an event (its owner learns of it otherwise).
                phase = ping.isFinished ? .tombstone : .online
            case .offline, .tombstone:
                expected = .success(.droppedOfflineWorker)
            }
        }
        let actual = Result { () throws(MasterWorkerError) in try manager.handleHeartbeat(ping, from: workerNode) }
        return compare(actual, expected, events: events, worker: worker, phase: phase, about: "\(ping)")
    }

    mutating func deliver(_ message: WorkerStatusMessage) -> String? {
        let worker = message.worker
        var expected: Result<MessageVerdict, MasterWorkerError>
        var events: [WorkerEvent] = []
        switch fence(masterEpoch: message.masterEpoch, worker: worker, workerEpoch: message.status.epoch) {
        case .failure(let error)?:
            expected = .failure(error)
        case nil:
            expected = .success(
                expectedDrop(masterEpoch: message.masterEpoch, worker: worker, workerEpoch: message.status.epoch))
        case .success(let entry):
            if entry.phase == .offline || entry.phase == .tombstone {
                expected = .success(.droppedOfflineWorker)
            } else {
                expected = .success(.accepted)
                events = [.statusUpdated(worker, message.status)]
            }
        }
        let actual = Result { () throws(MasterWorkerError) in try manager.handleStatus(message) }
        if let failure = compare(
            actual, expected, events: events, worker: worker, phase: known[worker]?.phase, about: "\(message)")
        {
            return failure
        }
        if case .success(.accepted) = expected, manager.worker(worker)?.status != message.status {
            return "\(message) was accepted but the master holds \(String(describing: manager.worker(worker)?.status))"
        }
        return nil
    }

    func compare(
        _ actual: Result<MessageVerdict, MasterWorkerError>, _ expected: Result<MessageVerdict, MasterWorkerError>,
        events expectedEvents: [WorkerEvent], worker: WorkerID, phase: WorkerPhase?, about message: String
    ) -> String? {
        var events: [WorkerEvent] = []
        while let event = manager.nextEvent() { events.append(event) }
        if actual != expected { return "the master answered \(message) with \(actual), expected \(expected)" }
        if events != expectedEvents { return "\(message) gave the events \(events), expected \(expectedEvents)" }
        if manager.worker(worker)?.phase != phase {
            return
                "after \(message) \(worker) is \(String(describing: manager.worker(worker)?.phase)), expected \(String(describing: phase))"
        }
        return nil
    }

    // MARK: Worker

    mutating func deliver(_ pong: HeartbeatPong) -> String? {
        let before = session.client
        var info = before.masterInfo
        var acknowledged = before.lastAcknowledgedPingTime
        var exitPhase = before.exitPhase
        let expected: MasterClient.PongVerdict
        if pong.toWorker != online {
            expected = .droppedOtherWorker
        } else if pong.masterEpoch < info.epoch {
            expected = .droppedStaleMaster
        } else if pong.sendTime > latestPing {
            expected = .droppedUnsentPing
        } else {
            // A newer master's epoch is adopted even from a pong dropped below: it proves that master.
            if pong.masterEpoch > info.epoch { info = MasterInfo(executor: pongNode, epoch: pong.masterEpoch) }
            if pong.isFinished && !leaving {
                expected = .droppedUnannouncedExit
            } else {
                if pong.isFinished { exitPhase = .closed }
                expected =
                    pong.isFinished && before.exitPhase != .closed
                    ? .exitAcknowledged
                    : pong.masterEpoch > before.masterInfo.epoch ? .acceptedNewMaster : .accepted
                acknowledged = max(acknowledged, pong.sendTime)
            }
        }
        let verdict = session.receive(pong, from: pongNode)
        let after = session.client
        if verdict != expected { return "the worker answered \(pong) with \(verdict), expected \(expected)" }
        if after.masterInfo != info { return "after \(pong) the worker follows \(after.masterInfo), expected \(info)" }
        if after.lastAcknowledgedPingTime != acknowledged {
            return
                "after \(pong) the last acknowledgement is \(after.lastAcknowledgedPingTime), expected \(acknowledged)"
        }
        if after.exitPhase != exitPhase { return "after \(pong) the exit is \(after.exitPhase), expected \(exitPhase)" }
        return nil
    }

    mutating func deliver(_ request: StatusChangeRequest) -> String? {
        let cancels =
            request.fromMaster == master && request.masterEpoch >= masterEpoch && request.expectedState == .stopped
        let first = session.statusChangeRequested(request)
        let again = session.statusChangeRequested(request)
        if first != cancels {
            return "\(request) \(first ? "ran" : "did not run") the cancel hook, expected \(cancels ? "it to" : "not")"
        }
        if again { return "\(request) ran the cancel hook twice" }
        return nil
    }
}
