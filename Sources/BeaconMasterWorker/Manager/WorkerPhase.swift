/// Where a worker is in its master's eyes.
///
/// ```
/// created ──first heartbeat──▶ online ──timeout or finished──▶ offline ──event delivered──▶ tombstone
///    └──────────────timeout before any heartbeat──────────────▲
/// waiting (fail-over) ──heartbeat──▶ online
/// waiting ──no heartbeat during recovery, or finished──▶ tombstone (no event)
/// ```
public enum WorkerPhase: Sendable, Hashable {
    /// Dispatched; no heartbeat yet.
    case created
    /// Known from the store after a fail-over; waiting for its first heartbeat to this master.
    case waiting
    /// Heartbeating.
    case online
    /// Declared gone; the offline event is queued but not yet delivered.
    case offline
    /// Gone, and the master has been told. Clean it up to reuse the ID.
    case tombstone
}

/// A worker as its master currently sees it.
public struct WorkerSnapshot: Sendable, Hashable {
    public var phase: WorkerPhase
    /// The executor its heartbeats come from; nil until the first one.
    public var executor: ExecutorID?
    public var status: WorkerStatus
    /// Whether it announced a graceful exit.
    public var receivedFinish: Bool
}
