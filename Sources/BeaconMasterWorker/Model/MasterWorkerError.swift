/// Every failure the master/worker layer reports. Public entry points throw this instead of
/// trapping; where TiFlow panics (a stale master seeing a newer epoch, a duplicate worker) the
/// caller gets a case it can act on.
public enum MasterWorkerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A worker, master or executor ID failed validation.
    case invalidIdentifier(String)
    /// A timeout configuration value is out of range.
    case invalidConfiguration(String)
    /// The worker's master stayed silent past the suicide threshold; the worker stopped itself so
    /// that it is gone before the master declares it offline and reschedules it.
    case workerSuicide(master: MasterID)
    /// The worker went offline: no heartbeat within the master's timeout.
    case workerOffline(WorkerID, lastError: String)
    /// The worker exited after finishing its work.
    case workerFinished
    /// The worker was cancelled.
    case workerCanceled
    /// The worker failed permanently.
    case workerFailed(String)
    /// Another master has taken over the job and this one must stop: a message carried a newer
    /// master epoch, or the store's record holds one (`seen`).
    case staleMaster(MasterID, ownEpoch: Epoch, seen: Epoch)
    /// A status from an earlier run of the worker: the store holds one of a later run (a newer
    /// worker epoch), so this run has been replaced and must stop; nothing was written.
    case staleWorker(WorkerID, ownEpoch: Epoch, stored: Epoch)
    /// A worker with this ID already exists under the master (clean its tombstone first).
    case duplicateWorker(WorkerID)
    /// No worker with this ID exists under the master.
    case unknownWorker(WorkerID)
    /// The operation is not allowed for the worker in its current state.
    case invalidWorkerState(WorkerID, String)
    /// The master has been closed.
    case masterClosed
    /// The master did not acknowledge the worker's exit in time.
    case exitNotAcknowledged(master: MasterID, after: Duration)
    /// A status message could not be delivered to the master within the retry budget.
    case statusNotDelivered(master: MasterID, after: Duration)
    /// The heartbeat wheel refused an operation.
    case heartbeatWheel(String)
    /// The persistent store failed; nothing was acknowledged for the failed write.
    case storage(String)
    /// A message's bytes could not be read: not JSON, a field missing or of the wrong type, an
    /// invalid identifier or an unknown state.
    case invalidMessage(String)

    public var description: String {
        switch self {
        case .invalidIdentifier(let message): "invalid identifier: \(message)"
        case .invalidConfiguration(let message): "invalid timeout configuration: \(message)"
        case .workerSuicide(let master): "worker has committed suicide because master \(master) timed out"
        case .workerOffline(let worker, let lastError):
            "worker is offline: worker \(worker)" + (lastError.isEmpty ? "" : ", last error: \(lastError)")
        case .workerFinished: "worker finished and exited"
        case .workerCanceled: "worker is cancelled"
        case .workerFailed(let message): "worker failed permanently" + (message.isEmpty ? "" : ": \(message)")
        case .staleMaster(let master, let own, let seen):
            "master \(master) at \(own) is stale: a newer master, at \(seen), runs this job"
        case .staleWorker(let worker, let own, let stored):
            "worker \(worker) at \(own) is stale: the store holds a status of its run at \(stored)"
        case .duplicateWorker(let worker): "worker \(worker) already exists under this master"
        case .unknownWorker(let worker): "no worker \(worker) under this master"
        case .invalidWorkerState(let worker, let message): "worker \(worker): \(message)"
        case .masterClosed: "the master is closed"
        case .exitNotAcknowledged(let master, let after):
            "master \(master) did not acknowledge the worker's exit within \(after)"
        case .statusNotDelivered(let master, let after):
            "status could not be delivered to master \(master) within \(after)"
        case .heartbeatWheel(let message): "heartbeat wheel: \(message)"
        case .storage(let message): "storage failure: \(message)"
        case .invalidMessage(let message): "invalid message: \(message)"
        }
    }
}
