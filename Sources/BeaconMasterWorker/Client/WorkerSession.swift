public import BeaconCore

/// Everything a worker decides about its master, as a pure state machine driven by a clock:
/// when to ping, when the silence means "reload where the master runs" or "stop", the graceful
/// exit, status updates, and cancellation requests. ``WorkerRuntime`` carries out its actions
/// over a transport and a store; tests drive it in virtual time.
public struct WorkerSession: Sendable {
    /// What the worker must do now.
    public enum Action: Sendable, Hashable {
        /// Send this ping to the master's executor.
        case sendPing(HeartbeatPing, to: ExecutorID)
        /// Read where the master runs from the store (the master may have moved).
        case reloadMasterInfo
        /// Stop at once: the master has been silent for the worker timeout
        /// (``MasterWorkerError/workerSuicide(master:)``).
        case suicide
        /// The master did not acknowledge the graceful exit in time, or went silent for the worker
        /// timeout while the worker was leaving
        /// (``MasterWorkerError/exitNotAcknowledged(master:after:)``).
        case exitNotAcknowledged
    }

    /// A status the worker is about to report.
    public struct StatusUpdate: Sendable, Hashable {
        public var status: WorkerStatus
        /// Whether it differs significantly from the last persisted one and must be written first.
        public var mustPersist: Bool
    }

    public private(set) var client: MasterClient
    /// The worker's current status (its epoch never changes).
    public private(set) var status: WorkerStatus
    /// When the next ping is due.
    public private(set) var nextPing: BeaconInstant
    private var lastPersistedStatus: WorkerStatus?
    private var cancelRequested = false

    /// A session that pings at once and then every heartbeat interval.
    public init(client: MasterClient, at now: BeaconInstant) {
        self.client = client
        self.status = WorkerStatus(state: .created, epoch: client.workerEpoch)
        self.nextPing = now
    }

    /// When ``tick(at:)`` next may have something to do: the next ping, the instant the master's
    /// silence reaches the worker timeout, or the end of the exit's wait.
    ///
    /// TiFlow checks for suicide only on its 3 s ticker, so a worker may outlive the timeout by up
    /// to one interval; here the check is due exactly at the timeout, which keeps suicide
    /// strictly before the master's offline deadline for any positive grace.
    public var nextTick: BeaconInstant {
        let configuration = client.configuration
        var next = min(nextPing, client.lastAcknowledgedPingTime.advanced(by: configuration.workerTimeout))
        if case .closing(let since) = client.exitPhase {
            next = min(next, since.advanced(by: configuration.exitAcknowledgementTimeout))
        }
        return next
    }

    /// The actions due at `now`: stop if the master has been silent for the worker timeout or
    /// ignored the exit for too long; otherwise a ping when one is due, with a request to reload
    /// the master's whereabouts when it has been silent for two intervals.
    public mutating func tick(at now: BeaconInstant) -> [Action] {
        guard client.exitPhase != .closed else { return [] }
        let watchdog = client.checkMasterTimeout(at: now)
        if case .closing = client.exitPhase, client.exitTimedOut(at: now) || watchdog == .suicide {
            // A leaving worker stops at the same instants, but the error says what it was doing.
            return [.exitNotAcknowledged]
        }
        if watchdog == .suicide { return [.suicide] }
        guard now >= nextPing else { return [] }
        let interval = client.configuration.heartbeatInterval
        let next = nextPing.advanced(by: interval)
        // A worker that fell behind (a paused process) pings once, not once per missed interval.
        nextPing = next > now ? next : now.advanced(by: interval)
        var actions: [Action] = [.sendPing(client.ping(at: now), to: client.masterInfo.executor)]
        if watchdog == .reloadMasterInfo { actions.append(.reloadMasterInfo) }
        return actions
    }

    /// Takes in a pong (see ``MasterClient/receive(_:from:)``).
    public mutating func receive(_ pong: HeartbeatPong, from executor: ExecutorID) -> MasterClient.PongVerdict {
        client.receive(pong, from: executor)
    }

    /// Follows the master info read from the store, unless it is older than the current one.
    public mutating func masterInfoLoaded(_ info: MasterInfo) {
        client.updateMasterInfo(info)
    }

    /// Whether this request must run the worker's cancel hook: true for the first request to stop,
    /// false for repeats and other states. Requests from another master, or from an older epoch
    /// of this one, are ignored: epochs are drawn per job, so another master's say nothing here,
    /// and topics join master and worker IDs with dashes, so a misrouted request is possible.
    public mutating func statusChangeRequested(_ request: StatusChangeRequest) -> Bool {
        guard request.fromMaster == client.master, request.masterEpoch >= client.masterInfo.epoch,
            request.expectedState == .stopped, !cancelRequested
        else {
            return false
        }
        cancelRequested = true
        return true
    }

    /// Prepares a new status: only state, error message and extension bytes change; the epoch is
    /// the worker's own.
    public mutating func prepareStatus(state: WorkerState, errorMessage: String = "", extensionBytes: [UInt8] = [])
        -> StatusUpdate
    {
        status = WorkerStatus(
            state: state, epoch: client.workerEpoch, errorMessage: errorMessage, extensionBytes: extensionBytes)
        return StatusUpdate(status: status, mustPersist: status.hasSignificantChange(from: lastPersistedStatus))
    }

    /// Records that `status` is durably stored.
    public mutating func statusPersisted(_ status: WorkerStatus) {
        lastPersistedStatus = status
    }

    /// The message reporting `status` to the master the worker currently follows.
    public func statusMessage(for status: WorkerStatus) -> (message: WorkerStatusMessage, executor: ExecutorID) {
        (
            WorkerStatusMessage(worker: client.worker, masterEpoch: client.masterInfo.epoch, status: status),
            client.masterInfo.executor
        )
    }

    /// Starts the graceful exit: the next pings carry the finished flag, and the next one is due
    /// at once so the master hears it without waiting a heartbeat interval.
    public mutating func beginExit(at now: BeaconInstant) {
        client.beginExit(at: now)
        nextPing = now
    }

    /// The status an exit persists: finished, stopped or error, with the error's text.
    public static func exitStatus(_ reason: ExitReason, error: String?, extensionBytes: [UInt8], epoch: Epoch)
        -> WorkerStatus
    {
        WorkerStatus(state: reason.workerState, epoch: epoch, errorMessage: error ?? "", extensionBytes: extensionBytes)
    }
}
