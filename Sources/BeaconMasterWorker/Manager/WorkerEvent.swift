/// Something the master learned about one of its workers, delivered in the order it happened:
/// for one worker, online always comes before offline, and a status update before the offline
/// event that follows it.
public enum WorkerEvent: Sendable, Hashable {
    /// The worker's first heartbeat after it was created (not after a fail-over: recovered
    /// workers come back silently).
    case online(WorkerID, executor: ExecutorID)
    /// The worker is gone: it timed out, or it exited and said so. `reason` comes from its last
    /// status: ``MasterWorkerError/workerFinished``, ``MasterWorkerError/workerCanceled``,
    /// ``MasterWorkerError/workerFailed(_:)``, else ``MasterWorkerError/workerOffline(_:lastError:)``.
    /// The worker is a tombstone once this is delivered.
    case offline(WorkerID, reason: MasterWorkerError)
    /// The worker reported a new status.
    case statusUpdated(WorkerID, WorkerStatus)
    /// Creating the worker failed before it ever ran; its entry is gone.
    case dispatchFailed(WorkerID, error: String)
}
