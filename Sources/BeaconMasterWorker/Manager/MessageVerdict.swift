/// What a master did with a ping or a status message it did not throw on.
public enum MessageVerdict: Sendable, Hashable {
    /// Processed.
    case accepted
    /// The master is still loading what it persisted.
    case droppedWhileLoading
    /// The sender believes in an older master epoch (it will adopt the current one from the pong).
    case droppedStaleMasterEpoch
    /// No such worker under this master: a leftover from a worker it already forgot.
    case droppedUnknownWorker
    /// The ping came from an earlier incarnation of the worker (an older worker epoch).
    case droppedStaleWorkerEpoch
    /// The ping carried a worker epoch newer than the one the master created the worker with.
    /// TiFlow treats this as impossible and panics; Beacon drops it and reports it.
    case droppedUnknownWorkerEpoch
    /// The worker was already declared offline; it must not come back under the same entry.
    case droppedOfflineWorker
}
