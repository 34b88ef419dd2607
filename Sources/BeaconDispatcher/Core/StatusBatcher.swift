import BeaconCore

/// The writes the dispatcher owes the store, committed in batches as SwarmKit does: node status
/// (READY, UNKNOWN, DOWN), task status reports and orphaned tasks queue here, and a batch is due
/// once `limit` are queued or `interval` has passed since the last one.
///
/// Registrations wait for the batch that carries their READY write. Each batch has a generation,
/// and a registration queued just after a batch was taken waits for the next one, never for a
/// flush that already happened (SwarmKit's missed wake-up).
///
/// A value with no clock or lock: the time comes with each call, and ``committed(_:)`` returns
/// the waiters to resume rather than resuming them, so the core can make those calls once its
/// lock is released.
package struct StatusBatcher {
    /// The writes of one flush, to commit and then report with ``committed(_:)``.
    package struct WriteBatch: Sendable {
        package let writes: [DispatcherWrite]
        package let generation: UInt64
        /// The dispatcher's term when the batch was taken: a report from an earlier term is stale.
        let term: UInt64
    }

    /// Resumes a registration with its batch's commit error (nil: committed).
    typealias Resume = (DispatcherError?) -> Void

    private struct NodeWrite {
        var status: NodeStatus
        var description: NodeDescription?
    }

    private struct Waiter {
        var generation: UInt64
        var resume: Resume
    }

    let limit: Int
    let interval: Duration
    /// Within a batch the last write per node and per task wins.
    private var nodeWrites: [NodeID: NodeWrite] = [:]
    private var taskWrites: [String: TaskStatus] = [:]
    private var orphanWrites: [NodeID] = []
    /// The generation the next batch carries; waiters for it resume when it commits.
    private var nextGeneration: UInt64 = 1
    private var waiters: [Waiter] = []
    private var lastFlush = BeaconInstant.zero
    /// The last batch failed: the next waits for the interval even when the queue is full, so a
    /// store that refuses at once is not asked again in a tight loop.
    private var pacedAfterFailure = false
    /// Batches taken and the writes in them, for ``DispatcherCounters``.
    private(set) var flushes = 0
    private(set) var writeCount = 0

    init(limit: Int, interval: Duration) {
        self.limit = limit
        self.interval = interval
    }

    /// Writes queued for the next batch.
    var pendingCount: Int { nodeWrites.count + taskWrites.count + orphanWrites.count }

    /// The interval runs from `now` (a term starts).
    mutating func restartInterval(at now: BeaconInstant) {
        lastFlush = now
    }

    /// Whether a status of `node` is queued for the next batch.
    func queuesStatus(of node: NodeID) -> Bool {
        nodeWrites[node] != nil
    }

    // MARK: Queueing

    /// Queues the node's status and description, replacing what was queued for it.
    mutating func queueNodeStatus(_ node: NodeID, _ status: NodeStatus, description: NodeDescription?) {
        nodeWrites[node] = NodeWrite(status: status, description: description)
    }

    /// Queues the node's status, keeping a description queued with an earlier status (a node
    /// that registered and expired before the flush still reports what it is).
    mutating func queueNodeStatusKeepingDescription(_ node: NodeID, _ status: NodeStatus) {
        nodeWrites[node] = NodeWrite(status: status, description: nodeWrites[node]?.description)
    }

    mutating func queueTaskStatus(_ taskID: String, _ status: TaskStatus) {
        taskWrites[taskID] = status
    }

    mutating func queueOrphanTasks(of node: NodeID) {
        orphanWrites.append(node)
    }

    /// Drops the queued node statuses and orphanings of the nodes `released` picks: another
    /// manager holds them now, and what this one decided about them is no longer its to write.
    /// Their task statuses stay queued: those are what the nodes reported while held here.
    mutating func dropNodeWrites(where released: (NodeID) -> Bool) {
        nodeWrites = nodeWrites.filter { !released($0.key) }
        orphanWrites.removeAll(where: released)
    }

    /// Queues again what `batch`, which failed to commit, carried and nothing newer replaced:
    /// each task status not queued since, and each orphaning `stillDue` confirms. Node statuses
    /// are the core's to write again, from its view of each node at the time. The next batch
    /// then waits for the interval, full or not.
    mutating func requeue(_ batch: WriteBatch, orphaningIf stillDue: (NodeID) -> Bool) {
        pacedAfterFailure = true
        for write in batch.writes {
            switch write {
            case .taskStatus(let id, let status):
                if taskWrites[id] == nil { taskWrites[id] = status }
            case .orphanTasks(let node):
                if stillDue(node), !orphanWrites.contains(node) { orphanWrites.append(node) }
            case .nodeStatus:
                continue
            }
        }
    }

    /// `resume` runs (through ``committed(_:)``) once the next batch has committed.
    mutating func waitForNextBatch(_ resume: @escaping Resume) {
        waiters.append(Waiter(generation: nextGeneration, resume: resume))
    }

    // MARK: Flushing

    /// Whether a batch should be taken now: the batch is full, or the interval passed (and there
    /// is something to write or someone waiting).
    func isFlushDue(at now: BeaconInstant) -> Bool {
        let pending = pendingCount
        guard pending > 0 || !waiters.isEmpty else { return false }
        return pending >= limit && !pacedAfterFailure || now.duration(since: lastFlush) >= interval
    }

    /// When the next batch is due, for a shell that sleeps until then; nil when nothing is queued
    /// and nobody waits.
    func nextFlush(after now: BeaconInstant) -> BeaconInstant? {
        guard pendingCount > 0 || !waiters.isEmpty else { return nil }
        return pendingCount >= limit && !pacedAfterFailure ? now : lastFlush.advanced(by: interval)
    }

    /// Takes the queued writes as one batch and restarts the interval; nil when nothing is
    /// queued and nobody waits.
    mutating func takeBatch(at now: BeaconInstant, term: UInt64) -> WriteBatch? {
        lastFlush = now
        guard pendingCount > 0 || !waiters.isEmpty else { return nil }
        return takeAll(term: term)
    }

    /// Takes whatever is queued, even nothing (the term's last batch).
    mutating func takeAll(term: UInt64) -> WriteBatch {
        var writes: [DispatcherWrite] = []
        writes.reserveCapacity(pendingCount)
        for (id, write) in nodeWrites { writes.append(.nodeStatus(id, write.status, description: write.description)) }
        for (id, status) in taskWrites { writes.append(.taskStatus(taskID: id, status)) }
        for node in orphanWrites { writes.append(.orphanTasks(node: node)) }
        nodeWrites = [:]
        taskWrites = [:]
        orphanWrites = []
        let batch = WriteBatch(writes: writes, generation: nextGeneration, term: term)
        pacedAfterFailure = false
        nextGeneration += 1
        flushes += 1
        writeCount += writes.count
        return batch
    }

    /// The batch committed (or failed): returns the waiters it carries, to resume with the
    /// outcome. The caller has checked that the batch is of the current term.
    mutating func committed(_ batch: WriteBatch) -> [Resume] {
        var due: [Resume] = []
        for waiter in waiters where waiter.generation <= batch.generation { due.append(waiter.resume) }
        waiters.removeAll { $0.generation <= batch.generation }
        return due
    }

    /// Every waiter, to resume with ``DispatcherError/stopped`` (the term ended).
    mutating func takeWaiters() -> [Resume] {
        defer { waiters = [] }
        return waiters.map(\.resume)
    }
}
