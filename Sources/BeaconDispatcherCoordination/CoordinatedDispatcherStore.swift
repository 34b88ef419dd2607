public import BeaconCoordination
public import BeaconCore
public import BeaconDispatcher
import BeaconPrimitives

/// A dispatcher's store kept in a `CoordinationStore` (etcd, or the in-memory store), so that
/// nodes, tasks, their dependencies, their statuses and the cluster settings outlive the process
/// that leads: the next leader opens the same prefix and finds everything the last one wrote.
///
/// ```swift
/// let store = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/beacon/dispatcher/")
/// let dispatcher = try Dispatcher(store: store)
/// ```
///
/// Reads stay local and synchronous, as `DispatcherStore` promises: they come from a replica
/// built by one read of the prefix and kept current by a watch from that read's revision. When
/// the watch breaks (the store unreachable, its history compacted past the replica), the store
/// reads the prefix again and watches from there; watchers receive the difference as events, so
/// none is lost and none is delivered twice.
///
/// Writes are transactions of at most ``operationsPerTransaction`` operations (etcd refuses more
/// than 128 by default), each put conditioned on the key's revision in the replica, so a write
/// never overwrites a change the replica has not seen: on a conflict the store reads again and
/// plans the batch anew. Every write of the dispatcher also carries the conditions given to
/// ``fence(with:)``: a leader fences on its ownership (see `DispatcherLeadership`), and once it
/// has lost it, its writes fail with `DispatcherError.storeFailure` instead of overwriting
/// the new leader's. ``commit(_:)`` returns once the replica holds what it wrote.
///
/// The orchestrator's side (creating nodes, putting and deleting tasks, secrets and configs,
/// changing the cluster settings) writes through the same store and is not fenced.
///
/// Keys under the prefix: `nodes/<id>`, `tasks/<id>`, `secrets/<id>`, `configs/<id>` and
/// `cluster`, each a JSON record; a record's version is its key's mod revision.
public final class CoordinatedDispatcherStore: DispatcherStore {
    /// The prefix every key of this store starts with.
    public let prefix: String
    /// The most operations one transaction carries (conditions or writes).
    public let operationsPerTransaction: Int
    private let store: any CoordinationStore
    private let clock: any BeaconClock
    /// How many times a commit plans its writes again after a conflict before giving up.
    private static let maximumAttempts = 8
    /// How long a write waits for the watch to bring its revision before reading the prefix
    /// instead: a watch on a half-open connection can stall without failing.
    public static let watchPatience = Duration.seconds(2)
    static let watchBackoff = try! Backoff(initial: .milliseconds(50), maximum: .seconds(2))

    private enum WaitOutcome {
        case applied
        case closed
        case timedOut
    }

    private struct Waiter {
        var id: Int
        var revision: Int64
        var continuation: CheckedContinuation<WaitOutcome, Never>
    }

    private struct State {
        var replica: DispatcherReplica
        var fence: [StoreCondition] = []
        var waiters: [Waiter] = []
        var nextWaiter = 0
        var isClosed = false
        var watchRestarts = 0

        mutating func takeWaiters(ready: Bool) -> [Waiter] {
            let due = waiters.filter { !ready || $0.revision <= replica.revision }
            waiters.removeAll { !ready || $0.revision <= replica.revision }
            return due
        }
    }

    private let state: PosixMutex<State>
    private let watchers = StoreWatchers()
    private let follower = PosixMutex<Task<Void, Never>?>(nil)

    private init(store: any CoordinationStore, prefix: String, clock: any BeaconClock, operationsPerTransaction: Int) {
        self.store = store
        self.prefix = prefix
        self.clock = clock
        self.operationsPerTransaction = operationsPerTransaction
        state = PosixMutex(State(replica: DispatcherReplica(keys: DispatcherStoreKeys(prefix: prefix))))
    }

    /// Reads everything under `prefix` and starts following it.
    ///
    /// - Parameters:
    ///   - store: where the records live; every manager of a cluster opens the same one.
    ///   - prefix: starts and ends with `/`, such as `/beacon/dispatcher/`.
    ///   - clock: what the back-off between attempts to restore a broken watch sleeps on.
    ///   - operationsPerTransaction: the store's limit on operations per transaction (etcd's
    ///     `--max-txn-ops`, 128 unless configured); at least 2.
    /// - Throws: `DispatcherError.invalidArgument` for a malformed prefix or limit;
    ///   `DispatcherError.storeFailure` when the first read fails.
    public static func open(
        on store: any CoordinationStore, prefix: String, clock: some BeaconClock = MonotonicClock(),
        operationsPerTransaction: Int = 128
    ) async throws(DispatcherError) -> CoordinatedDispatcherStore {
        guard isKeyPrefix(prefix) else {
            throw .invalidArgument(
                "a dispatcher store's prefix starts and ends with /, as /beacon/dispatcher/ does; not \(prefix.debugDescription)"
            )
        }
        guard operationsPerTransaction >= 2 else {
            throw .invalidArgument("a transaction must hold at least 2 operations, not \(operationsPerTransaction)")
        }
        let opened = CoordinatedDispatcherStore(
            store: store, prefix: prefix, clock: clock, operationsPerTransaction: operationsPerTransaction)
        let revision = opened.receive(try await opened.read())
        opened.follow(after: revision)
        return opened
    }

    /// Whether `prefix` can hold a layer's keys apart from the rest of the store: it starts and
    /// ends with `/`, and is not `/` alone, which holds every key.
    package static func isKeyPrefix(_ prefix: String) -> Bool {
        prefix.count > 1 && prefix.hasPrefix("/") && prefix.hasSuffix("/")
    }

    deinit {
        follower.withLock { $0?.cancel() }
        for waiter in state.withLock({ $0.takeWaiters(ready: false) }) {
            waiter.continuation.resume(returning: .closed)
        }
    }

    /// Stops following the store; reads keep the last state, and writes fail.
    public func close() async {
        // Closed first, so a watch being replaced meanwhile finds the store closed and starts no
        // follower that nothing would stop.
        let waiters = state.withLock { state in
            state.isClosed = true
            return state.takeWaiters(ready: false)
        }
        for waiter in waiters { waiter.continuation.resume(returning: .closed) }
        let task = follower.withLock { $0 }
        task?.cancel()
        await task?.value
    }

    // MARK: Reads

    public func node(_ id: NodeID) -> Node? { state.withLock { $0.replica.nodes[id] } }

    public func allNodes() -> [Node] { state.withLock { Array($0.replica.nodes.values) } }

    public func task(_ id: String) -> DispatchedTask? { state.withLock { $0.replica.tasks[id] } }

    public func tasks(on node: NodeID) -> [DispatchedTask] {
        state.withLock { state in
            (state.replica.tasksByNode[node] ?? []).compactMap { state.replica.tasks[$0] }
        }
    }

    public func dependency(_ kind: DependencyKind, id: String) -> TaskDependency? {
        state.withLock { $0.replica.dependency(kind, id: id) }
    }

    public func clusterSettings() -> ClusterSettings { state.withLock { $0.replica.cluster } }

    /// The store revision the replica is at: every change up to it is reflected in reads.
    public var revision: Int64 { state.withLock { $0.replica.revision } }

    /// Keys of this store's layout whose value is not a record of their kind (something else
    /// wrote them); reads treat them as absent.
    public var unreadableKeys: [String] { state.withLock { $0.replica.unreadableKeys.sorted() } }

    /// The conditions every commit of the dispatcher carries (see ``fence(with:)``).
    public var fenceConditions: [StoreCondition] { state.withLock { $0.fence } }

    /// How many times the watch broke or stalled and the store read the prefix again.
    public var watchRestarts: Int { state.withLock { $0.watchRestarts } }

    // MARK: The dispatcher's writes

    /// Makes every later ``commit(_:)`` hold only while `conditions` hold, as one transaction
    /// with its writes: a leader passes what makes it the leader (its key in an election, the
    /// group's choice naming it), so that it cannot write once another has taken over. An empty
    /// list removes the fence.
    ///
    /// - Throws: `DispatcherError.invalidArgument` when the conditions leave no room for a
    ///   write in a transaction.
    public func fence(with conditions: [StoreCondition]) throws(DispatcherError) {
        guard conditions.count < operationsPerTransaction else {
            throw .invalidArgument(
                "a fence of \(conditions.count) conditions leaves no room in transactions of \(operationsPerTransaction) operations"
            )
        }
        state.withLock { $0.fence = conditions }
    }

    /// Applies `writes` as `InMemoryDispatcherStore` does, fenced; returns once the replica
    /// holds them. A batch larger than one transaction is committed in several, in order.
    ///
    /// A write that meets a change it had not seen is planned again on the newer records, except
    /// a node status whose record another writer wrote after this commit began: that newer
    /// status stands (with several managers, the node's new owner decided it), and this one is
    /// dropped. A change that landed before the commit began is not detected this way: the
    /// dispatcher drops its queued statuses of nodes that moved away (`Dispatcher.updateShard`).
    /// A sharded dispatcher that holds a node whose record shows another state than its own
    /// after the commit writes its state again in its next batch, so a stale writer cannot bury
    /// the owner's status.
    ///
    /// - Throws: `DispatcherError.storeFailure` when the store cannot be reached, when the
    ///   fence no longer holds, or when other writers kept changing the same records; writes of
    ///   transactions committed before the failure stay.
    public func commit(_ writes: [DispatcherWrite]) async throws(DispatcherError) {
        try await commit(writes, fenced: true)
    }

    private func commit(_ writes: [DispatcherWrite], fenced: Bool) async throws(DispatcherError) {
        var decidedAgainst: [NodeID: Int64]?
        for _ in 0..<Self.maximumAttempts {
            let (puts, fence) = state.withLock { state in
                // Taken with the first plan, so that no change can land between the two unseen.
                let seen = decidedAgainst ?? state.replica.nodeRevisions(setBy: writes)
                decidedAgainst = seen
                return (
                    state.replica.plan(state.replica.withoutOvertaken(writes, decidedAgainst: seen)),
                    fenced ? state.fence : []
                )
            }
            guard !puts.isEmpty else { return }
            let perTransaction = operationsPerTransaction - fence.count
            var lastWrite: Int64?
            var conflicted = false
            for start in stride(from: 0, to: puts.count, by: perTransaction) {
                let chunk = puts[start..<min(start + perTransaction, puts.count)]
                let writes = chunk.compactMap { put in
                    put.value.map { StoreOperation.put(key: put.key, value: $0, lease: nil) }
                }
                let outcome = try await transaction(
                    if: fence + chunk.map { .modRevision(key: $0.key, equals: $0.expectedRevision) }, then: writes)
                guard outcome.succeeded else {
                    conflicted = true
                    break
                }
                if !writes.isEmpty { lastWrite = outcome.revision }
            }
            if let lastWrite { try await waitUntilApplied(lastWrite) }
            guard conflicted else { return }
            if !fence.isEmpty, !(try await transaction(if: fence, then: []).succeeded) {
                throw .storeFailure("fenced: this dispatcher no longer owns the store, so its writes are refused")
            }
            // Another writer changed a record first: see its change, then plan again.
            try await synchronize()
        }
        throw .storeFailure(
            "other writers kept changing the same records; gave up after \(Self.maximumAttempts) attempts")
    }

    /// Reads the prefix and brings the replica up to that read: afterwards, reads reflect every
    /// change committed before the call. A new leader calls it before it starts, so that it
    /// starts from the last leader's final writes.
    public func synchronize() async throws(DispatcherError) {
        receive(try await read())
    }

    // MARK: The orchestrator's writes

    /// Creates a node, as joining the cluster does; it starts UNKNOWN until it registers.
    /// Returns false, changing nothing, if the node exists.
    @discardableResult
    public func createNode(_ id: NodeID, description: NodeDescription? = nil) async throws(DispatcherError) -> Bool {
        let key = keys.key(.node(id.rawValue))
        return try await write(
            [.put(key: key, value: DispatcherRecordCodec.encode(Node(id: id, description: description)), lease: nil)],
            if: [.createRevision(key: key, equals: 0)]) != nil
    }

    /// Creates many nodes, a transaction per half ``operationsPerTransaction`` of them (a
    /// condition and a put each), skipping ones that exist and repeats; returns how many were
    /// created.
    @discardableResult
    public func createNodes(_ ids: some Sequence<NodeID>) async throws(DispatcherError) -> Int {
        var created = 0
        var seen: Set<NodeID> = []
        // etcd refuses a transaction that puts one key twice.
        var pending = ids.filter { seen.insert($0).inserted }
        var attempts = 0
        while !pending.isEmpty {
            // A key that holds something, even a value that is not a node, is not created over.
            let layout = keys
            let batch = state.withLock { state in
                pending.prefix(operationsPerTransaction / 2).filter {
                    state.replica.held[layout.key(.node($0.rawValue))] == nil
                }
            }
            let chunk = pending.prefix(operationsPerTransaction / 2)
            if batch.isEmpty {
                pending.removeFirst(chunk.count)
                continue
            }
            let nodeKeys = batch.map { layout.key(.node($0.rawValue)) }
            let written = try await write(
                zip(batch, nodeKeys).map {
                    .put(key: $1, value: DispatcherRecordCodec.encode(Node(id: $0)), lease: nil)
                },
                if: nodeKeys.map { .createRevision(key: $0, equals: 0) })
            if written != nil {
                created += batch.count
                pending.removeFirst(chunk.count)
                attempts = 0
            } else {
                // Some of them were created meanwhile: see which, then try the rest.
                attempts += 1
                guard attempts < Self.maximumAttempts else {
                    throw .storeFailure("nodes kept being created by another writer; gave up")
                }
                try await synchronize()
            }
        }
        return created
    }

    /// Sets a node's status directly (as an earlier leader's writes would have left it); not
    /// fenced.
    public func setNodeStatus(_ id: NodeID, _ status: NodeStatus) async throws(DispatcherError) {
        try await commit([.nodeStatus(id, status, description: nil)], fenced: false)
    }

    /// Creates or replaces a task; returns it with its new version.
    @discardableResult
    public func putTask(_ task: DispatchedTask) async throws(DispatcherError) -> DispatchedTask {
        let revision = try await write(
            [.put(key: keys.key(.task(task.id)), value: DispatcherRecordCodec.encode(task), lease: nil)], if: [])
        var stored = task
        stored.version = UInt64(revision ?? 0)
        return stored
    }

    /// Deletes a task; returns false if there was none.
    @discardableResult
    public func deleteTask(_ id: String) async throws(DispatcherError) -> Bool {
        try await deleteRecord(.task(id))
    }

    /// Creates or replaces a secret or config; returns it with its new version.
    @discardableResult
    public func putDependency(_ dependency: TaskDependency) async throws(DispatcherError) -> TaskDependency {
        let revision = try await write(
            [
                .put(
                    key: keys.key(.dependency(dependency.kind, dependency.id)),
                    value: DispatcherRecordCodec.encode(dependency), lease: nil)
            ], if: [])
        var stored = dependency
        stored.version = UInt64(revision ?? 0)
        return stored
    }

    /// Deletes a secret or config; returns false if there was none.
    @discardableResult
    public func deleteDependency(_ kind: DependencyKind, id: String) async throws(DispatcherError) -> Bool {
        try await deleteRecord(.dependency(kind, id))
    }

    /// Replaces the cluster settings; every session receives a new message.
    public func updateCluster(_ settings: ClusterSettings) async throws(DispatcherError) {
        _ = try await write(
            [.put(key: keys.key(.cluster), value: DispatcherRecordCodec.encode(settings), lease: nil)], if: [])
    }

    // MARK: Watching

    public func watch(_ observer: @escaping @Sendable (StoreEvent) -> Void) -> StoreWatch {
        watchers.watch(observer)
    }

    // MARK: Following the store

    private var keys: DispatcherStoreKeys { DispatcherStoreKeys(prefix: prefix) }

    /// Applies a watch batch; returns the replica's revision.
    @discardableResult
    private func receive(_ changes: [StoreChange]) -> Int64 {
        settle { $0.apply(changes) }
    }

    /// Brings the replica to a read; returns the replica's revision.
    @discardableResult
    private func receive(_ snapshot: StoreSnapshot) -> Int64 {
        settle { $0.reset(to: snapshot) }
    }

    /// Changes the replica, delivers the events it made, then wakes the writes it completed, so a
    /// commit returns only after watchers have seen its changes.
    private func settle(_ change: (inout DispatcherReplica) -> [StoreEvent]) -> Int64 {
        let (waiters, revision) = state.withLock { state in
            watchers.enqueue(change(&state.replica))
            return (state.takeWaiters(ready: true), state.replica.revision)
        }
        watchers.deliverPending()
        for waiter in waiters { waiter.continuation.resume(returning: .applied) }
        return revision
    }

    /// Starts the follower, from `revision` or else from the replica's, in place of the one
    /// running. Under the follower's lock throughout, so that two writes replacing a stalled
    /// watch at once leave one follower, not two (the second one would run, and hold its watch
    /// open, until the process ends), and a store closed meanwhile starts none.
    private func follow(after revision: Int64? = nil) {
        let owner = WeakBox(self)
        let (store, prefix, clock) = (store, prefix, clock)
        follower.withLock { follower in
            guard let start = state.withLock({ $0.isClosed ? nil : revision ?? $0.replica.revision }) else { return }
            follower?.cancel()
            follower = Task.detached {
                await Self.follow(owner, store: store, prefix: prefix, after: start, clock: clock)
            }
        }
    }

    /// The follower's loop: applies the watch's batches; when the watch breaks, reads the prefix
    /// again (backing off while reads fail) and watches from the read. It holds the store only
    /// while handling a batch, so the store is freed, and the loop ended, when its last user
    /// lets go.
    private static func follow(
        _ owner: WeakBox<CoordinatedDispatcherStore>, store: any CoordinationStore, prefix: String,
        after start: Int64, clock: any BeaconClock
    ) async {
        var after = start
        var backoff = watchBackoff
        var random = SplitMix64(seed: UInt64(bitPattern: start) ^ 0x5EED_F011)
        while !Task.isCancelled {
            do {
                for try await batch in store.watch(prefix: prefix, after: after) {
                    guard let current = owner.value else { return }
                    after = current.receive(batch)
                    backoff.reset()
                }
            } catch {
                // Broken: a compacted revision, an unreachable store. Read again below.
            }
            guard !Task.isCancelled else { return }
            owner.value?.state.withLock { $0.watchRestarts += 1 }
            while !Task.isCancelled {
                do {
                    try await backoff.sleep(on: clock, using: &random)
                } catch {
                    return
                }
                guard let current = owner.value else { return }
                if let snapshot = try? await current.read() {
                    after = current.receive(snapshot)
                    break
                }
            }
        }
    }

    // MARK: Store calls

    private func read() async throws(DispatcherError) -> StoreSnapshot {
        do {
            return try await store.read(prefix: prefix)
        } catch {
            throw .storeFailure("\(error)")
        }
    }

    private func transaction(if conditions: [StoreCondition], then operations: [StoreOperation])
        async throws(DispatcherError) -> TransactionOutcome
    {
        guard !state.withLock({ $0.isClosed }) else { throw .storeFailure("the dispatcher store is closed") }
        do {
            return try await store.transaction(if: conditions, then: operations, else: [])
        } catch {
            throw .storeFailure("\(error)")
        }
    }

    /// Writes `operations` if `conditions` hold, then waits until the replica holds the write.
    /// Returns the write's revision, or nil if the conditions did not hold.
    private func write(_ operations: [StoreOperation], if conditions: [StoreCondition]) async throws(DispatcherError)
        -> Int64?
    {
        let outcome = try await transaction(if: conditions, then: operations)
        guard outcome.succeeded else { return nil }
        try await waitUntilApplied(outcome.revision)
        return outcome.revision
    }

    private func deleteRecord(_ record: DispatcherStoreKeys.Record) async throws(DispatcherError) -> Bool {
        let key = keys.key(record)
        for _ in 0..<Self.maximumAttempts {
            // Conditioned on the revision the replica holds, so the delete is a change the watch
            // reports (a delete of an absent key would make none to wait for).
            guard let held = state.withLock({ $0.replica.held[key] }) else { return false }
            if try await write([.delete(key: key)], if: [.modRevision(key: key, equals: held.modRevision)]) != nil {
                return true
            }
            try await synchronize()
        }
        throw .storeFailure("\(key) kept changing under another writer; gave up deleting it")
    }

    /// Returns once the replica is at `revision` or later. Only a revision this store wrote
    /// under its prefix is waited for: the watch is sure to report it, unless it stalls, so after
    /// ``watchPatience`` the store reads the prefix instead (a read is linearizable: it is at
    /// `revision` or later) and replaces the watch, which would otherwise keep the replica
    /// behind other writers.
    private func waitUntilApplied(_ revision: Int64) async throws(DispatcherError) {
        while true {
            switch await appliedOrTimedOut(revision) {
            case .applied: return
            case .closed: throw .storeFailure("the dispatcher store closed before the write was seen")
            case .timedOut:
                try await synchronize()
                replaceWatch()
            }
        }
    }

    private func replaceWatch() {
        state.withLock { $0.watchRestarts += 1 }
        follow()
    }

    private func appliedOrTimedOut(_ revision: Int64) async -> WaitOutcome {
        let timer = PosixMutex<Task<Void, Never>?>(nil)
        defer { timer.withLock { $0?.cancel() } }
        return await withCheckedContinuation { (continuation: CheckedContinuation<WaitOutcome, Never>) in
            let outcome: WaitOutcome? = state.withLock { state in
                if state.replica.revision >= revision { return .applied }
                if state.isClosed { return .closed }
                state.nextWaiter += 1
                state.waiters.append(Waiter(id: state.nextWaiter, revision: revision, continuation: continuation))
                let id = state.nextWaiter
                // Registered first, so the timer cannot fire before there is a wait to end.
                timer.withLock { [clock] in
                    $0 = Task { [weak self] in
                        try? await clock.sleep(until: clock.now.advanced(by: Self.watchPatience), tolerance: nil)
                        guard !Task.isCancelled else { return }
                        self?.expireWaiter(id)
                    }
                }
                return nil
            }
            if let outcome { continuation.resume(returning: outcome) }
        }
    }

    private func expireWaiter(_ id: Int) {
        let expired = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        expired?.continuation.resume(returning: .timedOut)
    }
}
