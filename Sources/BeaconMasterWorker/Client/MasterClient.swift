public import BeaconCore

/// The worker's view of its master as a pure state machine: which master to ping, the last
/// ping the master acknowledged, and the graceful-exit handshake.
///
/// Only a pong echoing a ping's send time proves the master alive, so the watchdog compares the
/// worker's own monotonic clock with its own earlier readings and never with the master's clock.
public struct MasterClient: Sendable {
    /// Where a worker is in leaving.
    public enum ExitPhase: Sendable, Hashable {
        case running
        /// Pinging with the finished flag since `since`, waiting for the master's echo.
        case closing(since: BeaconInstant)
        /// The master acknowledged the exit.
        case closed
    }

    /// What a pong did.
    public enum PongVerdict: Sendable, Hashable {
        case accepted
        /// The pong came from a newer master epoch: the worker now follows that master.
        case acceptedNewMaster
        /// The master echoed the finished flag: the graceful exit is complete.
        case exitAcknowledged
        /// The pong was for another worker.
        case droppedOtherWorker
        /// The pong came from an older master epoch than the one the worker follows.
        case droppedStaleMaster
        /// The pong acknowledged an exit this worker never announced: an answer meant for an
        /// earlier run of the same worker ID (TiFlow panics here).
        case droppedUnannouncedExit
        /// The pong echoed a send time later than any ping this worker has sent: corrupt, forged,
        /// or meant for a run of the same worker ID on a clock ahead of this one. Taken in, it
        /// would move the last acknowledgement into the future and silence the watchdog.
        case droppedUnsentPing
    }

    /// What the watchdog concluded.
    public enum Watchdog: Sendable, Hashable {
        /// The master acknowledged a ping within two heartbeat intervals.
        case healthy
        /// Silent for longer, but not yet for the worker timeout: still fine, but reload where the
        /// master runs, in case it moved.
        case reloadMasterInfo
        /// Silent for the worker timeout: stop, before the master declares this worker offline.
        case suicide
    }

    public let master: MasterID
    public let worker: WorkerID
    public let workerEpoch: Epoch
    public let configuration: TimeoutConfiguration
    /// The master the worker follows.
    public private(set) var masterInfo: MasterInfo
    /// The latest send time of a ping the master echoed; starts at the worker's start time, so a
    /// worker whose master never answers times out from its start.
    public private(set) var lastAcknowledgedPingTime: BeaconInstant
    /// The send time of the latest ping made with ``ping(at:)``; nil before the first. A pong
    /// can acknowledge no later one.
    public private(set) var latestPingTime: BeaconInstant?
    public private(set) var exitPhase: ExitPhase = .running

    /// - Parameters:
    ///   - master: the job's master.
    ///   - worker: this worker.
    ///   - workerEpoch: the epoch the master gave this worker.
    ///   - masterInfo: where the master runs and its epoch, as last read from the store.
    ///   - startTime: when the worker was started (TiFlow uses the executor's submit time, so a
    ///     worker that waited long before running times out sooner).
    ///   - configuration: the heartbeat interval and timeouts.
    public init(
        master: MasterID, worker: WorkerID, workerEpoch: Epoch, masterInfo: MasterInfo, startTime: BeaconInstant,
        configuration: TimeoutConfiguration = .default
    ) {
        self.master = master
        self.worker = worker
        self.workerEpoch = workerEpoch
        self.masterInfo = masterInfo
        self.lastAcknowledgedPingTime = startTime
        self.configuration = configuration
    }

    /// The ping to send now, to ``masterInfo``'s executor. Remembers its send time: a pong
    /// echoing a later one is dropped.
    public mutating func ping(at now: BeaconInstant) -> HeartbeatPing {
        latestPingTime = max(latestPingTime ?? now, now)
        let finished = if case .running = exitPhase { false } else { true }
        return HeartbeatPing(
            sendTime: now, fromWorker: worker, masterEpoch: masterInfo.epoch, workerEpoch: workerEpoch,
            isFinished: finished)
    }

    /// Takes in a pong: another worker's, an older master's, or one echoing a ping this worker
    /// never sent is dropped; a newer master's epoch is adopted, and only a pong newer than any
    /// before moves the last acknowledgement.
    public mutating func receive(_ pong: HeartbeatPong, from executor: ExecutorID) -> PongVerdict {
        guard pong.toWorker == worker else { return .droppedOtherWorker }
        guard pong.masterEpoch >= masterInfo.epoch else { return .droppedStaleMaster }
        guard let latestPingTime, pong.sendTime <= latestPingTime else { return .droppedUnsentPing }
        var verdict = PongVerdict.accepted
        if pong.masterEpoch > masterInfo.epoch {
            masterInfo = MasterInfo(executor: executor, epoch: pong.masterEpoch)
            verdict = .acceptedNewMaster
        }
        if pong.isFinished {
            switch exitPhase {
            case .running:
                // Pongs carry no worker epoch: this can be a late answer to a previous run of
                // the same worker ID on this executor. It proves nothing about this run.
                return .droppedUnannouncedExit
            case .closing:
                exitPhase = .closed
                verdict = .exitAcknowledged
            case .closed:
                break
            }
        }
        lastAcknowledgedPingTime = max(lastAcknowledgedPingTime, pong.sendTime)
        return verdict
    }

    /// The watchdog's verdict at `now`.
    public func checkMasterTimeout(at now: BeaconInstant) -> Watchdog {
        let silence = now.duration(since: lastAcknowledgedPingTime)
        if silence <= configuration.reloadMasterInfoAfter { return .healthy }
        if silence < configuration.workerTimeout { return .reloadMasterInfo }
        return .suicide
    }

    /// Follows the master found in the store, unless it is older than the one already followed.
    public mutating func updateMasterInfo(_ info: MasterInfo) {
        guard info.epoch >= masterInfo.epoch else { return }
        masterInfo = info
    }

    /// Starts the graceful exit: from now on pings carry the finished flag. Does nothing if the
    /// exit has already started.
    public mutating func beginExit(at now: BeaconInstant) {
        if case .running = exitPhase { exitPhase = .closing(since: now) }
    }

    /// Whether the master failed to acknowledge the exit within its timeout.
    public func exitTimedOut(at now: BeaconInstant) -> Bool {
        guard case .closing(let since) = exitPhase else { return false }
        return now.duration(since: since) >= configuration.exitAcknowledgementTimeout
    }
}
