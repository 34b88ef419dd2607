import BeaconCoordination
import BeaconDispatcher
import BeaconPrimitives

/// Every event a dispatcher store delivers, in order, to wait on without sleeping. One iterator
/// for the log's life: an `AsyncStream` ends when an iterator of it is released.
actor EventLog {
    private var iterator: AsyncStream<StoreEvent>.Iterator
    private let watch: StoreWatch

    init(_ store: some DispatcherStore) {
        let (events, continuation) = AsyncStream<StoreEvent>.makeStream()
        iterator = events.makeAsyncIterator()
        watch = store.watch { continuation.yield($0) }
    }

    /// The next event for which `matches` holds, skipping the others.
    func next(where matches: (StoreEvent) -> Bool) async -> StoreEvent? {
        // A local copy shares the stream's state; only the copy can be mutated across the await.
        var events = iterator
        defer { iterator = events }
        while let event = await events.next(isolation: self) {
            if matches(event) { return event }
        }
        return nil
    }

    /// Waits for a node update that leaves `node` in `state`.
    func node(_ node: NodeID, becomes state: NodeState) async -> Node? {
        await next { $0.node?.id == node && $0.node?.status.state == state }?.node
    }

    /// Waits for a task update that leaves `task` in `state`.
    func task(_ task: String, becomes state: TaskState) async -> DispatchedTask? {
        let event = await next {
            if case .taskUpdated(let changed) = $0 { return changed.id == task && changed.status.state == state }
            return false
        }
        guard case .taskUpdated(let updated)? = event else { return nil }
        return updated
    }
}

extension StoreEvent {
    var node: Node? {
        if case .nodeUpdated(let node) = self { return node }
        return nil
    }
}

/// A coordination store in front of another, to see and steer what a dispatcher store sends:
/// it records every transaction, can run a write of its own on the store behind it just before
/// one, and can break the watches open on it.
final class ObservedStore: CoordinationStore {
    struct Transaction: Sendable {
        var conditions: [StoreCondition]
        var operations: [StoreOperation]
        var succeeded: Bool
    }

    let base: any CoordinationStore
    private let state = PosixMutex<
        (
            transactions: [Transaction], beforeNext: (@Sendable (any CoordinationStore) async throws -> Void)?,
            watches: [AsyncThrowingStream<[StoreChange], any Error>.Continuation]
        )
    >(([], nil, []))

    /// Watches numbered below this (in the order they were opened) deliver nothing and never
    /// fail, as a watch on a half-open connection does.
    private let stalledWatches: Int

    init(_ base: any CoordinationStore = InMemoryCoordinationStore(), stalledWatches: Int = 0) {
        self.base = base
        self.stalledWatches = stalledWatches
    }

    var transactions: [Transaction] { state.withLock { $0.transactions } }

    /// Runs `write` on the base store just before the next transaction that writes, as another
    /// writer racing it would.
    func beforeNextWrite(_ write: @escaping @Sendable (any CoordinationStore) async throws -> Void) {
        state.withLock { $0.beforeNext = write }
    }

    /// Ends every watch open now with `error`, as a broken connection or a compaction would.
    func breakWatches(_ error: CoordinationError) {
        for watch in state.withLock({ $0.watches }) { watch.finish(throwing: error) }
    }

    func grantLease(ttl: Duration) async throws(CoordinationError) -> GrantedLease {
        try await base.grantLease(ttl: ttl)
    }
    func keepAlive(_ lease: LeaseID) async throws(CoordinationError) -> Bool { try await base.keepAlive(lease) }
    func revoke(_ lease: LeaseID) async throws(CoordinationError) { try await base.revoke(lease) }
    func read(prefix: String) async throws(CoordinationError) -> StoreSnapshot { try await base.read(prefix: prefix) }

    func transaction(
        if conditions: [StoreCondition], then success: [StoreOperation], else failure: [StoreOperation]
    ) async throws(CoordinationError) -> TransactionOutcome {
        if !success.isEmpty, let write = state.withLock({ $0.beforeNext.take() }) {
            do {
                try await write(base)
            } catch {
                throw .failure("the racing write failed: \(error)")
            }
        }
        let outcome = try await base.transaction(if: conditions, then: success, else: failure)
        state.withLock {
            $0.transactions.append(
                Transaction(conditions: conditions, operations: success, succeeded: outcome.succeeded))
        }
        return outcome
    }

    func watch(prefix: String, after revision: Int64) -> AsyncThrowingStream<[StoreChange], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[StoreChange], any Error>.makeStream()
        let upstream = base.watch(prefix: prefix, after: revision)
        let stalled = state.withLock { $0.watches.count } < stalledWatches
        let pump = Task {
            do {
                for try await batch in upstream where !stalled { continuation.yield(batch) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in pump.cancel() }
        state.withLock { $0.watches.append(continuation) }
        return stream
    }
}
