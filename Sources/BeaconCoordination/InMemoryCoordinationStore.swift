public import BeaconCore
import BeaconPrimitives

/// The embedded coordination store: etcd's semantics in this process's memory — revisions,
/// leases that expire unless kept alive, transactions, and watches that resume from a revision —
/// for participants that share one process (tests, a single machine, `beacon scheduler join
/// --embedded`).
///
/// Leases run on the clock the store is given: on a `ManualClock` a lease lapses exactly when
/// the test advances the clock past its deadline, and not before.
public final class InMemoryCoordinationStore: CoordinationStore {
    private struct Lease {
        var ttl: Duration
        var deadline: BeaconInstant
        var keys: Set<String> = []
    }

    private struct Watcher {
        var prefix: String
        /// Changes at or below this are not the watch's, as etcd skips them for a watch that
        /// starts at a revision the store has not reached.
        var after: Int64
        var continuation: AsyncThrowingStream<[StoreChange], any Error>.Continuation
    }

    private struct State {
        var revision: Int64 = 0
        var values: [String: StoredValue] = [:]
        /// Keys by each of their `/`-terminated ancestors ("/a/", "/a/b/" for "/a/b/c"), so a
        /// read of a group's prefix costs the group's keys, not the whole store's.
        var keysByDirectory: [String: Set<String>] = [:]
        var leases: [Int64: Lease] = [:]
        var nextLease: Int64 = 0x6c65_6173_6500
        var watchers: [Int: Watcher] = [:]
        var watcherIndex = WatcherIndex()
        var nextWatcher = 0
        /// No lease expires before this; the sweep skips its scan until then, and the sweeper
        /// sleeps until it.
        var earliestDeadline: BeaconInstant?
        /// Recent changes, so a watch can resume from a revision; older ones are compacted.
        var history = ChangeHistory()

        /// Forgets watch `id` in the table and in the prefix index together; nil if it was gone.
        @discardableResult
        mutating func removeWatcher(_ id: Int) -> Watcher? {
            guard let watcher = watchers.removeValue(forKey: id) else { return nil }
            watcherIndex.remove(id, following: watcher.prefix)
            return watcher
        }
    }

    /// The smallest TTL a lease gets (etcd's default is 2 s; this store allows shorter leases so
    /// tests of expiry run quickly).
    public let minimumTTL: Duration
    private let historyLimit: Int
    private let watchBufferLimit: Int
    private let state = PosixMutex(State())
    /// Watches whose readers went away. A stream calls its termination handler while holding its
    /// own lock, and `publish` yields to streams while holding `state`'s: the handler must not
    /// take `state`, so it leaves the id here for the next write to drop.
    private let endedWatchers = PosixMutex<[Int]>([])
    private let clock: any BeaconClock
    /// Wakes the sweeper when a lease is granted that lapses before the one it sleeps for.
    private let earlierDeadline = Wakeup()
    private let sweeper = PosixMutex<Task<Void, Never>?>(nil)

    /// - Parameters:
    ///   - minimumTTL: leases asked for less get this much.
    ///   - watchBufferLimit: batches a watch holds for a reader that has not taken them; one
    ///     more ends the watch with ``CoordinationError/failure(_:)`` after those it holds, and
    ///     the reader reads again. Below 1 counts as 1.
    ///   - historyLimit: changes kept for watches that resume; one resuming from before them
    ///     fails as etcd's would after a compaction.
    ///   - clock: what lease deadlines are measured on. A background sweeper sleeps on it until
    ///     the earliest deadline, so a lease lapses on time even when nothing touches the store.
    public init(
        minimumTTL: Duration = .milliseconds(100), historyLimit: Int = 10_000, watchBufferLimit: Int = 10_000,
        clock: some BeaconClock = MonotonicClock()
    ) {
        self.minimumTTL = minimumTTL
        self.historyLimit = max(1, historyLimit)
        self.watchBufferLimit = max(1, watchBufferLimit)
        self.clock = clock
        let weakStore = WeakBox(self)
        let earlierDeadline = earlierDeadline
        sweeper.withLock { sweeper in
            sweeper = Task.detached {
                await Self.sweep(weakStore, earlierDeadline: earlierDeadline, on: clock)
            }
        }
    }

    /// The sweeper's loop: expires what is due, then sleeps until the next deadline (or, with no
    /// lease, until one is granted). It holds the store only while sweeping, so the store is
    /// freed, and the loop cancelled, when its last user lets go.
    private static func sweep(
        _ weakStore: WeakBox<InMemoryCoordinationStore>, earlierDeadline: Wakeup, on clock: some BeaconClock
    ) async {
        while !Task.isCancelled {
            guard let next = weakStore.value.map({ $0.expireLeases() }) else { return }
            await earlierDeadline.wait(until: next, on: clock)
        }
    }

    deinit {
        sweeper.withLock { $0?.cancel() }
        state.withLock { state in
            for watcher in state.watchers.values { watcher.continuation.finish() }
        }
    }

    public func grantLease(ttl: Duration) async throws(CoordinationError) -> GrantedLease {
        guard ttl > .zero, ttl <= GrantedLease.longestTTL else {
            throw .invalidArgument("lease TTL must be positive and at most \(GrantedLease.longestTTL), not \(ttl)")
        }
        let granted = max(ttl, minimumTTL)
        let now = clock.now
        let (lease, sweepSooner) = state.withLock { state in
            state.nextLease += 1
            let deadline = now.advanced(by: granted)
            state.leases[state.nextLease] = Lease(ttl: granted, deadline: deadline)
            let sooner = state.earliestDeadline.map { deadline < $0 } ?? true
            if sooner { state.earliestDeadline = deadline }
            return (GrantedLease(id: LeaseID(state.nextLease), ttl: granted), sooner)
        }
        if sweepSooner { earlierDeadline.signal() }
        return lease
    }

    public func keepAlive(_ lease: LeaseID) async throws(CoordinationError) -> Bool {
        expireLeases()
        let now = clock.now
        return state.withLock { state in
            guard var held = state.leases[lease.rawValue] else { return false }
            held.deadline = now.advanced(by: held.ttl)
            state.leases[lease.rawValue] = held
            return true
        }
    }

    public func revoke(_ lease: LeaseID) async throws(CoordinationError) {
        state.withLock { state in drop(lease.rawValue, in: &state) }
    }

    public func read(prefix: String) async throws(CoordinationError) -> StoreSnapshot {
        expireLeases()
        return state.withLock { state in
            let candidates: [StoredValue] =
                if prefix.hasSuffix("/") {
                    (state.keysByDirectory[prefix] ?? []).compactMap { state.values[$0] }
                } else {
                    state.values.values.filter { $0.key.utf8.starts(with: prefix.utf8) }
                }
            return StoreSnapshot(values: candidates.sorted { $0.key < $1.key }, revision: state.revision)
        }
    }

    public func transaction(
        if conditions: [StoreCondition], then success: [StoreOperation], else failure: [StoreOperation]
    ) async throws(CoordinationError) -> TransactionOutcome {
        try StoreOperation.check(branch: success)
        try StoreOperation.check(branch: failure)
        expireLeases()
        return try state.withLock { state throws(CoordinationError) -> TransactionOutcome in
            let held = conditions.allSatisfy { Self.holds($0, in: state) }
            let operations = held ? success : failure
            for case .put(_, _, let lease?) in operations where state.leases[lease.rawValue] == nil {
                throw .leaseNotFound
            }
            // As on etcd, the revision moves only when something changed: deleting keys that are
            // absent writes nothing, and no watch would ever report such a revision.
            let revision = state.revision + 1
            var changes: [StoreChange] = []
            for operation in operations {
                switch operation {
                case .put(let key, let value, let lease):
                    let previous = state.values[key]
                    if let old = previous?.lease { state.leases[old.rawValue]?.keys.remove(key) }
                    let stored = StoredValue(
                        key: key, value: value, createRevision: previous?.createRevision ?? revision,
                        modRevision: revision, lease: lease)
                    state.values[key] = stored
                    if previous == nil { Self.index(key, in: &state.keysByDirectory, adding: true) }
                    if let lease { state.leases[lease.rawValue]?.keys.insert(key) }
                    changes.append(.put(stored))
                case .delete(let key):
                    guard let previous = state.values.removeValue(forKey: key) else { continue }
                    Self.index(key, in: &state.keysByDirectory, adding: false)
                    if let lease = previous.lease { state.leases[lease.rawValue]?.keys.remove(key) }
                    changes.append(.delete(key: key, revision: revision))
                }
            }
            if !changes.isEmpty { state.revision = revision }
            publish(changes, in: &state)
            return TransactionOutcome(succeeded: held, revision: state.revision)
        }
    }

    public func watch(prefix: String, after revision: Int64) -> AsyncThrowingStream<[StoreChange], any Error> {
        guard revision < .max else { return .nothing(after: revision) }
        // Revisions start at 1: after any revision below it is after 0, the whole history (as
        // on etcd), not a revision the history has lost.
        let revision = max(revision, 0)
        let (stream, continuation) = AsyncThrowingStream<[StoreChange], any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(watchBufferLimit))
        let id: Int? = state.withLock { state in
            let oldest = state.history.oldestRevision ?? state.revision + 1
            if revision + 1 < oldest, revision < state.revision {
                continuation.finish(throwing: CoordinationError.compacted(compactRevision: oldest))
                return nil
            }
            let missed = state.history.changes(after: revision, under: prefix)
            if !missed.isEmpty { continuation.yield(missed) }
            state.nextWatcher += 1
            state.watchers[state.nextWatcher] = Watcher(prefix: prefix, after: revision, continuation: continuation)
            state.watcherIndex.insert(state.nextWatcher, following: prefix)
            return state.nextWatcher
        }
        if let id {
            let ended = endedWatchers
            continuation.onTermination = { _ in ended.withLock { $0.append(id) } }
        }
        return stream
    }

    /// The deadline of each live lease. A test that moves a manual clock reads it to wait for a
    /// refresh in flight to land before moving the clock past the lease's deadline.
    var leaseDeadlines: [BeaconInstant] {
        state.withLock { $0.leases.values.map(\.deadline) }
    }

    /// Drops every lease whose deadline passed, deleting its keys (one revision per lease, as
    /// etcd does). Returns the time before which no lease lapses (nil: no lease); a lease kept
    /// alive since may lapse later than that.
    @discardableResult
    func expireLeases() -> BeaconInstant? {
        let now = clock.now
        return state.withLock { state in
            guard let earliest = state.earliestDeadline, earliest <= now else { return state.earliestDeadline }
            let expired = state.leases.filter { $0.value.deadline <= now }.keys.sorted()
            for lease in expired { drop(lease, in: &state) }
            state.earliestDeadline = state.leases.values.lazy.map(\.deadline).min()
            return state.earliestDeadline
        }
    }

    private func drop(_ lease: Int64, in state: inout State) {
        guard let held = state.leases.removeValue(forKey: lease) else { return }
        var changes: [StoreChange] = []
        for key in held.keys.sorted() where state.values.removeValue(forKey: key) != nil {
            Self.index(key, in: &state.keysByDirectory, adding: false)
            changes.append(.delete(key: key, revision: state.revision + 1))
        }
        guard !changes.isEmpty else { return }
        state.revision += 1
        publish(changes, in: &state)
    }

    private func publish(_ changes: [StoreChange], in state: inout State) {
        for id in endedWatchers.withLock({ ended in
            defer { ended = [] }
            return ended
        }) {
            state.removeWatcher(id)
        }
        guard !changes.isEmpty else { return }
        state.history.append(changes, keeping: historyLimit)
        var batches: [Int: [StoreChange]] = [:]
        for change in changes {
            for id in state.watcherIndex.watchers(of: change.key)
            where state.watchers[id].map({ change.revision > $0.after }) ?? false {
                batches[id, default: []].append(change)
            }
        }
        for (id, batch) in batches {
            guard let watcher = state.watchers[id], case .dropped = watcher.continuation.yield(batch) else { continue }
            watcher.continuation.finish(throwing: CoordinationError.behind(batches: watchBufferLimit))
            state.removeWatcher(id)
        }
    }

    private static func index(_ key: String, in directories: inout [String: Set<String>], adding: Bool) {
        // Every prefix that ends in "/", the key itself included when it ends in one: a read of
        // "/a/" returns the key "/a/" too, as etcd's prefix range does. Found by scalars, not
        // characters: a "/" followed by a combining mark is one character.
        let scalars = key.unicodeScalars
        var end = scalars.startIndex
        while end < scalars.endIndex, let slash = scalars[end...].firstIndex(of: "/") {
            end = scalars.index(after: slash)
            let directory = String(scalars[..<end])
            if adding {
                directories[directory, default: []].insert(key)
            } else {
                directories[directory]?.remove(key)
                if directories[directory]?.isEmpty == true { directories[directory] = nil }
            }
        }
    }

    private static func holds(_ condition: StoreCondition, in state: State) -> Bool {
        switch condition {
        case .createRevision(let key, let revision): (state.values[key]?.createRevision ?? 0) == revision
        case .modRevision(let key, let revision): (state.values[key]?.modRevision ?? 0) == revision
        case .value(let key, let value): state.values[key]?.value == value
        case .lease(let key, let lease): state.values[key]?.lease == lease
        }
    }
}
