public import BeaconCoordination
public import BeaconCore
public import BeaconDispatcher
public import BeaconDispatcherCoordination
import BeaconPrimitives
import BeaconScheduler
public import Logging

/// One of several managers that split the nodes between them: every live manager runs a
/// dispatcher that holds sessions, heartbeats and assignment streams for its shard of the nodes,
/// where SwarmKit funnels every heartbeat through one leader.
///
/// ```swift
/// let records = try await CoordinatedDispatcherStore.open(on: store, prefix: "/beacon/records/")
/// let dispatcher = try Dispatcher(store: records)
/// let manager = ShardedDispatcher(
///     dispatcher: dispatcher, records: records, store: store, root: "/beacon/managers/",
///     manager: WeightedManager(nodeID: "m1", address: "10.0.0.1:4242"))
/// try await manager.run()   // until cancelled (or `LifecycleService(manager)` in a ServiceGroup)
/// ```
///
/// Each manager keeps an entry under `root` bound to a lease it refreshes, and every manager
/// derives the same shard table from the entries and the table stored beside them (see
/// `ShardTable`): when a manager joins or its lease ends, only the nodes the table moves change
/// hands, and the manager that gains a node takes it over as a new leader would (UNKNOWN with
/// twice the grace, until it registers there). A node that reaches the wrong manager is refused
/// with `DispatcherError/wrongManager(node:owner:)`, which names its owner.
///
/// Every write of the dispatcher is fenced on this manager's entry being bound to its lease, so
/// a manager whose lease ended (a partition, a paused process) can decide nothing any more:
/// its DOWN verdicts and status writes fail instead of reaching the store. It stops its
/// dispatcher as soon as it learns the lease is gone, and joins again under a new one.
///
/// Everything runs on the dispatcher's clock, so a test drives several managers on one
/// `ManualClock` shared with an `InMemoryCoordinationStore`.
public final class ShardedDispatcher<Clock: BeaconClock>: LongRunningService {
    /// What a manager went through, in order.
    public enum Event: Sendable, Equatable {
        /// Its entry is in the store under this lease, and its records are read up to date.
        case joined(LeaseID)
        /// The shard table it acts on changed (and the dispatcher with it).
        case shardChanged(ShardTable)
        /// Its lease ended (the store said so, or no refresh succeeded for a whole TTL): the
        /// dispatcher stopped, and the manager joins again under a new lease.
        case leaseLost
    }

    /// The dispatcher that serves this manager's shard.
    public let dispatcher: Dispatcher<Clock>
    /// This manager: its id in the table and the address nodes are sent to.
    public let manager: WeightedManager
    /// Where the managers' entries and their shared table live (ends with `/`).
    public let root: String
    private let records: CoordinatedDispatcherStore
    private let store: any CoordinationStore
    private let leaseTTL: Duration
    private let logger: Logger
    private let observer: @Sendable (Event) -> Void
    private let current = PosixMutex<ShardTable?>(nil)

    /// - Parameters:
    ///   - dispatcher: serves this manager's shard; nothing else may run it.
    ///   - records: the dispatcher's store; every manager of the deployment opens the same prefix.
    ///   - store: where the managers' entries and table live: the coordination store `records`
    ///     was opened on (or a view of it). Every write of the records is fenced on this
    ///     manager's entry, a key in this store, and the records' store checks the fence: records
    ///     kept in another store would refuse every write as fenced.
    ///   - root: the roster's prefix, starting and ending with `/`, the same for every manager,
    ///     neither inside the records' prefix nor holding it.
    ///   - manager: this manager's id and the address nodes reach it at. The id must be unique: while
    ///     a live entry holds it (another manager's, or this one's from before a restart, until its
    ///     lease lapses), joining fails and is retried with back-off, with a warning.
    ///   - leaseTTL: how long the entry outlives a manager that stopped refreshing it: how long its
    ///     nodes wait before another manager takes them over.
    ///   - logger: where shard changes and lost leases are logged.
    ///   - observer: told every ``Event`` after the dispatcher has followed it.
    public init(
        dispatcher: Dispatcher<Clock>, records: CoordinatedDispatcherStore, store: any CoordinationStore,
        root: String, manager: WeightedManager, leaseTTL: Duration = .seconds(10),
        logger: Logger = Logger(label: "beacon.shards"), observer: @escaping @Sendable (Event) -> Void = { _ in }
    ) {
        self.dispatcher = dispatcher
        self.records = records
        self.store = store
        self.root = root
        self.manager = manager
        self.leaseTTL = leaseTTL
        self.logger = logger
        self.observer = observer
    }

    /// The shard table this manager acts on now; nil before it joined.
    public var table: ShardTable? { current.withLock { $0 } }

    /// Joins and serves this manager's shard until the task is cancelled; then stops the
    /// dispatcher (whose last writes commit while the lease still fences them) and revokes the
    /// lease, so the other managers take its nodes over at once rather than a TTL later. A store
    /// that does not answer is retried with back-off; a lost lease means joining again.
    ///
    /// - Throws: `DispatcherError.invalidArgument` for a root that does not end with `/`, an
    ///   empty manager id or a lease TTL outside `GrantedLease.longestTTL`, and the dispatcher's own failure
    ///   (a heartbeat timer it cannot run, `DispatcherError.alreadyRunning`).
    public func run() async throws(DispatcherError) {
        guard CoordinatedDispatcherStore.isKeyPrefix(root) else {
            throw .invalidArgument(
                "the roster root starts and ends with /, as /beacon/shards/ does; not \(root.debugDescription)")
        }
        // Apart, or each would read the other's keys: every record an unreadable roster key, and
        // every status batch a roster change.
        guard !root.utf8.starts(with: records.prefix.utf8), !records.prefix.utf8.starts(with: root.utf8) else {
            throw .invalidArgument(
                "the roster root \(root) and the records' prefix \(records.prefix) overlap; give them apart, as /beacon/shards/ and /beacon/records/"
            )
        }
        guard !manager.nodeID.isEmpty else { throw .invalidArgument("a manager id must not be empty") }
        guard leaseTTL > .zero, leaseTTL <= GrantedLease.longestTTL else {
            throw .invalidArgument(
                "the lease TTL must be positive and at most \(GrantedLease.longestTTL), not \(leaseTTL)")
        }
        var backoff = DispatcherLeadership<Clock>.synchronizeBackoff
        var random = SplitMix64(seed: manager.nodeID.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) })
        while !Task.isCancelled {
            do {
                try await serveUnderOneLease()
                backoff.reset()
                continue
            } catch .stopped where Task.isCancelled {
                return
            } catch .storeFailure(let reason) {
                logger.warning("cannot join the managers; retrying", metadata: ["reason": "\(reason)"])
            }
            do {
                try await backoff.sleep(on: dispatcher.clock, using: &random)
            } catch {
                return
            }
        }
    }

    /// Why one lease's term ended.
    private enum TermEnd: Sendable {
        case cancelled
        case leaseLost
        case dispatcherFailed(DispatcherError)
    }

    /// Joins under a new lease and serves until the lease ends (returns) or the task is cancelled
    /// (throws `DispatcherError.stopped`).
    private func serveUnderOneLease() async throws(DispatcherError) {
        let granted = try await coordinate { () throws(CoordinationError) in try await store.grantLease(ttl: leaseTTL) }
        let lease = KeptLease(granted, store: store, clock: dispatcher.clock)
        defer { lease.stop() }
        let entry = ShardRoster.memberKey(root: root, id: manager.nodeID)
        let roster: ShardRoster
        do throws(DispatcherError) {
            // Only where no live manager holds the id: two managers with one id would take each
            // other's entry forever. A dead one's entry lapses with its lease, then this goes in.
            let put = try await coordinate { () throws(CoordinationError) in
                try await store.transaction(
                    if: [.createRevision(key: entry, equals: 0)],
                    then: [.put(key: entry, value: ShardRoster.memberValue(manager), lease: granted.id)], else: [])
            }
            guard put.succeeded else {
                throw .storeFailure(
                    "another manager holds the id \(manager.nodeID) (or this one's last run, until its lease lapses)")
            }
            try records.fence(with: [.lease(key: entry, equals: granted.id)])
            try await records.synchronize()
            roster = ShardRoster(root: root, snapshot: try await read())
        } catch {
            await revoke(granted.id)
            throw error
        }
        logger.info("joined the managers", metadata: ["manager": "\(manager.nodeID)", "lease": "\(granted.id)"])
        observer(.joined(granted.id))
        await follow(roster)
        let ended = Latch<TermEnd>()
        lease.onExpired { _ = ended.settle(.leaseLost) }
        let run = Task { [dispatcher] in
            do throws(DispatcherError) {
                try await dispatcher.run()
                _ = ended.settle(.dispatcherFailed(.stopped))
            } catch {
                _ = ended.settle(.dispatcherFailed(error))
            }
        }
        let watching = Task { [self, roster] in
            await watch(from: roster, lease: granted.id, ended: ended)
        }
        let end = await withTaskCancellationHandler {
            await ended.wait()
        } onCancel: {
            _ = ended.settle(.cancelled)
        }
        watching.cancel()
        // Cancelled as well as stopped: a stop that comes before the run has started is a no-op,
        // and cancellation ends a run that starts afterwards.
        run.cancel()
        dispatcher.stop()
        await run.value
        await watching.value
        switch end {
        case .leaseLost:
            current.withLock { $0 = nil }
            logger.warning("lease lost; joining again", metadata: ["manager": "\(manager.nodeID)"])
            observer(.leaseLost)
        case .cancelled:
            await revoke(granted.id)
            throw .stopped
        case .dispatcherFailed(let error):
            await revoke(granted.id)
            throw error == .stopped && Task.isCancelled ? .stopped : error
        }
    }

    /// Follows the roster from the watch until cancelled, reading it again whenever the watch
    /// breaks or falls behind; settles `ended` when this manager's entry is gone.
    private func watch(from start: ShardRoster, lease: LeaseID, ended: Latch<TermEnd>) async {
        let progress = PosixMutex(RosterProgress(roster: start))
        var backoff = DispatcherLeadership<Clock>.synchronizeBackoff
        var random = SplitMix64(seed: UInt64(truncatingIfNeeded: lease.rawValue))
        while !Task.isCancelled {
            // A read the roster moved on to and the dispatcher has not followed (the audit's, or
            // one after the watch broke) is followed before watching again.
            if let unfollowed = progress.withLock({ $0.takeUnfollowed() }) {
                guard unfollowed.holdsEntry(of: manager.nodeID, lease: lease) else {
                    _ = ended.settle(.leaseLost)
                    return
                }
                await follow(unfollowed)
                guard !Task.isCancelled else { return }
            }
            do {
                switch try await followWatch(progress, lease: lease) {
                case .entryGone:
                    _ = ended.settle(.leaseLost)
                    return
                case .finished:
                    return
                case .behind:
                    backoff.reset()
                    logger.warning(
                        "the managers' watch fell behind a read of them; following the read",
                        metadata: ["manager": "\(manager.nodeID)"])
                    continue
                }
            } catch {
                // A watch ended by the term's own end is not news.
                guard !Task.isCancelled else { return }
                if progress.withLock({ $0.takeDelivered() }) { backoff.reset() }
                logger.warning("the managers' watch broke; reading them again", metadata: ["error": "\(error)"])
            }
            do {
                try await backoff.sleep(on: dispatcher.clock, using: &random)
            } catch {
                return
            }
            // A read that fails leaves the roster where the watch left it, and the next watch
            // starts from there.
            if let read = try? await read() {
                backoff.reset()
                progress.withLock { $0.catchUp(to: ShardRoster(root: root, snapshot: read)) }
            }
        }
    }

    /// The roster as one term's watches and reads brought it, shared by the watch and its audit.
    private struct RosterProgress: Sendable {
        var roster: ShardRoster
        /// The revision of the roster last handed to the dispatcher.
        var followed: Int64
        /// Whether a watch delivered since the last look: the store answers, so back-off restarts.
        var delivered = false
        /// Whether the audit replaced the current watch: it applies nothing more.
        var auditTookOver = false

        init(roster: ShardRoster) {
            self.roster = roster
            followed = roster.revision
        }

        mutating func takeDelivered() -> Bool {
            defer { delivered = false }
            return delivered
        }

        /// The roster, if it moved on since it was last handed to the dispatcher; it counts as
        /// handed on from now.
        mutating func takeUnfollowed() -> ShardRoster? {
            guard roster.revision > followed else { return nil }
            followed = roster.revision
            return roster
        }

        /// Moves to `read` unless the roster is already at its revision or later.
        mutating func catchUp(to read: ShardRoster) {
            if read.revision > roster.revision { roster = read }
        }
    }

    /// How one watch of the roster ended.
    private enum WatchEnd: Sendable {
        case finished
        case entryGone
        /// A read showed another table, or this manager's entry gone, and the watch had still
        /// not told after another ``rosterAuditInterval``: the progress holds the read now, to
        /// follow before watching again.
        case behind
    }

    /// How often a manager reads the roster to check its watch: a watch on a half-open connection
    /// can stall without failing, and a manager that kept acting on an old table would refuse the
    /// nodes it gained and, with its lease still live, mark the ones it lost DOWN once their
    /// agents had gone to their new owner. (The records' watch is given the same patience when
    /// one of the store's own writes waits for it.)
    static var rosterAuditInterval: Duration { CoordinatedDispatcherStore.watchPatience }

    /// Follows one watch of the roster from where `progress` stands, while a second task reads
    /// the roster every ``rosterAuditInterval``. A read newer than what the watch delivered that
    /// shows another table or entry is given one more interval (the watch may just be slower than
    /// the read); if the watch still has not caught up, the read replaces it. A read that fails is
    /// skipped: the watch may be fine, and if it is not, its own failure says so.
    private func followWatch(_ progress: PosixMutex<RosterProgress>, lease: LeaseID) async throws -> WatchEnd {
        let id = manager.nodeID
        let start = progress.withLock { progress in
            progress.auditTookOver = false
            return progress.roster.revision
        }
        return try await withThrowingTaskGroup(of: WatchEnd.self) { group in
            group.addTask { [self] in
                for try await changes in store.watch(prefix: root, after: start) {
                    let delivery = progress.withLock { progress -> (tookOver: Bool, roster: ShardRoster?) in
                        guard !progress.auditTookOver else { return (true, nil) }
                        progress.roster.apply(changes)
                        progress.delivered = true
                        return (false, progress.takeUnfollowed())
                    }
                    // The audit took over: its read is newer than anything this watch brings.
                    if delivery.tookOver { return .behind }
                    guard !Task.isCancelled else { return .finished }
                    guard let roster = delivery.roster else { continue }
                    guard roster.holdsEntry(of: id, lease: lease) else { return .entryGone }
                    await follow(roster)
                }
                return .finished
            }
            group.addTask { [self] in
                var disagreed = false
                while true {
                    try await dispatcher.clock.sleep(
                        until: dispatcher.clock.now.advanced(by: Self.rosterAuditInterval), tolerance: nil)
                    guard let snapshot = try? await read() else { continue }
                    let fresh = ShardRoster(root: root, snapshot: snapshot)
                    let tookOver = progress.withLock { progress -> Bool in
                        let watched = progress.roster
                        let agrees =
                            watched.revision >= fresh.revision
                            || (watched.table == fresh.table
                                && watched.holdsEntry(of: id, lease: lease) == fresh.holdsEntry(of: id, lease: lease))
                        guard !agrees else {
                            disagreed = false
                            return false
                        }
                        guard disagreed else {
                            disagreed = true
                            return false
                        }
                        progress.roster = fresh
                        progress.auditTookOver = true
                        return true
                    }
                    if tookOver { return .behind }
                }
            }
            defer { group.cancelAll() }
            // The group waits for the watch task before returning, so a table it was handing on
            // when the audit took over reaches the dispatcher before the read's newer one.
            return try await group.next() ?? .finished
        }
    }

    /// Hands the roster's table to the dispatcher when it changed, and stores it when the stored
    /// one lags.
    private func follow(_ roster: ShardRoster) async {
        let table = roster.table
        let changed = current.withLock { current in
            defer { current = table }
            return current != table
        }
        if changed {
            dispatcher.updateShard(DispatcherShard(table: table, manager: manager.nodeID))
            observer(.shardChanged(table))
        }
        // Losing the race to another manager's identical write is fine; a store that does not
        // answer leaves the write to the next change or to another manager.
        if let write = roster.tableWrite {
            _ = try? await store.transaction(if: [write.condition], then: [write.operation], else: [])
        }
    }

    private func read() async throws(DispatcherError) -> StoreSnapshot {
        try await coordinate { () throws(CoordinationError) in try await store.read(prefix: root) }
    }

    private func revoke(_ lease: LeaseID) async {
        try? await store.revoke(lease)
    }

    private func coordinate<Value>(
        _ call: () async throws(CoordinationError) -> Value
    ) async throws(DispatcherError) -> Value {
        do {
            return try await call()
        } catch {
            throw .storeFailure("\(error)")
        }
    }
}
