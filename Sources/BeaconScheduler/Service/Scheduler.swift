public import BeaconCoordination
public import BeaconCore
import BeaconPrimitives
import Logging

/// mgmt's distributed scheduler over a `CoordinationStore`: hosts join groups, one strategy per
/// group chooses up to `maxCount` of them, and every participant learns the chosen set.
///
/// ```swift
/// let scheduler = Scheduler(store: InMemoryCoordinationStore())
/// var options = ScheduleOptions(strategy: "rr")
/// options.maxCount = 2
/// let handle = try await scheduler.schedule(path: "/sched/web", hostname: "h1", options: options)
/// var results = handle.results.makeAsyncIterator()
/// while true {
///     do {
///         guard let hosts = try await results.next() else { break }   // nil after shutdown()
///         print(hosts)                                                 // ["h1"], then each change
///     } catch {
///         print("in band:", error)                                     // the participant carries on
///     }
/// }
/// ```
///
/// Each group has one elected leader (the participant with the oldest election key, etcd's
/// recipe); it runs the strategy and writes the decision with a fenced transaction; everyone
/// follows the group's keys and reports the decision when it changes. The participants one
/// scheduler runs in a group share one watch and one copy of the group.
///
/// Every timer of the scheduler (lease refreshes, retry back-offs) runs on the clock it is
/// given; one task refreshes all its participants' leases. A test hands the same `ManualClock` to the scheduler and to an
/// `InMemoryCoordinationStore` and drives a whole group, lease expiry included, in virtual time.
public final class Scheduler: Sendable {
    private struct State {
        var active: Set<String> = []
        /// Leases kept for reuse, by exchange key: one per host and group. Keyed by group alone
        /// (mgmt runs one host a process), two hosts would share an election key and both lead.
        var reusable: [String: KeptLease] = [:]
        /// One watch and view per group this scheduler has participants in.
        var feeds: [GroupPath: GroupFeed] = [:]
        var closed = false
    }

    /// The store the groups coordinate through.
    public let store: any CoordinationStore
    private let clock: any BeaconClock
    /// Refreshes the session leases of every participant, and those kept for reuse, from one task.
    private let leases: LeaseKeeper
    /// Seeds each participant's back-off jitter.
    private let random: PosixMutex<any RandomNumberGenerator & Sendable>
    private let state = PosixMutex(State())

    /// - Parameters:
    ///   - store: where the groups coordinate.
    ///   - clock: what lease refreshes and retry back-offs sleep on. The in-memory store measures
    ///     lease deadlines on its own clock: give both the same one.
    ///   - random: the source of the back-offs' jitter; a seeded one repeats the delays.
    public init(
        store: any CoordinationStore, clock: some BeaconClock = MonotonicClock(),
        random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.store = store
        self.clock = clock
        leases = LeaseKeeper(store: store, clock: clock)
        self.random = PosixMutex(random)
    }

    /// Joins `hostname` to the group at `path`.
    ///
    /// - Throws: ``SchedulerError/invalidPath(_:)``, ``SchedulerError/invalidHostname(_:)``,
    ///   ``SchedulerError/missingStrategy``, ``SchedulerError/unknownStrategy(_:)``,
    ///   ``SchedulerError/invalidOption(_:)``, ``SchedulerError/duplicateRegistration(path:hostname:)``
    ///   if this scheduler already runs that host in that group, ``SchedulerError/closed``, or
    ///   the store's error if the first registration fails.
    public func schedule(path: String, hostname: String, options: ScheduleOptions = .init())
        async throws(SchedulerError) -> ScheduleHandle
    {
        let group = try GroupPath(path)
        try validateHostname(hostname)
        let strategy = try options.validated()
        let key = group.exchangeKey(hostname)
        try state.withLock { state throws(SchedulerError) in
            guard !state.closed else { throw .closed }
            guard state.active.insert(key).inserted else {
                throw .duplicateRegistration(path: path, hostname: hostname)
            }
        }
        let participant = GroupParticipant(
            store: store, path: group, hostname: hostname, options: options, strategy: strategy,
            services: SchedulerServices(scheduler: self), clock: clock, retrySeed: random.withLock { $0.next() })
        // Once only: `shutdown()` may be called again after another participant of the same
        // host took the key, and must not free it under that one.
        let released = PosixMutex(false)
        let release: @Sendable () -> Void = { [state] in
            let first = released.withLock { done in
                defer { done = true }
                return !done
            }
            if first { _ = state.withLock { $0.active.remove(key) } }
        }
        do {
            try await participant.start()
        } catch {
            release()
            throw error
        }
        return ScheduleHandle(participant: participant, onShutdown: release)
    }

    /// Stops refreshing the leases kept for reuse (they lapse after their TTL) and refuses new
    /// participants. Shut the handles down first.
    public func close() async {
        let kept = state.withLock { state in
            state.closed = true
            defer { state.reusable = [:] }
            return Array(state.reusable.values)
        }
        for lease in kept { lease.stop() }
    }

    fileprivate func lease(
        for path: GroupPath, hostname: String, ttl: Duration, reuse: Bool, logger: Logger
    ) async throws(CoordinationError) -> KeptLease {
        let key = path.exchangeKey(hostname)
        if reuse, let kept = state.withLock({ $0.reusable[key] }), !kept.isExpired {
            return kept
        }
        let granted = try await store.grantLease(ttl: ttl)
        // A failed refresh is the first sign of a partition: the lease ends at its deadline
        // unless a retry gets through, and an operator should see that coming.
        let lease = KeptLease(granted, keeper: leases) { refresh in
            guard case .failed(_, let error, let retry) = refresh else { return }
            logger.warning(
                retry == nil
                    ? "session lease refresh failed; the lease ends at its deadline"
                    : "session lease refresh failed; retrying before the lease's deadline",
                metadata: ["path": "\(path)", "lease": "\(granted.id)", "reason": "\(error)"])
        }
        if reuse { state.withLock { $0.reusable[key] = lease } }
        return lease
    }

    fileprivate func follow(_ path: GroupPath, _ subscriber: @escaping GroupFeed.Subscriber) -> @Sendable () -> Void {
        let (feed, token) = state.withLock { state in
            let feed =
                state.feeds[path]
                ?? GroupFeed(path: path, store: store, clock: clock, retrySeed: random.withLock { $0.next() })
            state.feeds[path] = feed
            return (feed, feed.subscribe(subscriber))
        }
        return { [state] in
            // Under the scheduler's lock, so that a participant joining the group meanwhile
            // either subscribes before the feed stops or finds it gone and starts a new one.
            state.withLock { state in
                if feed.unsubscribe(token), state.feeds[path] === feed { state.feeds[path] = nil }
            }
        }
    }
}

/// The scheduler as its participants see it. A running participant keeps its scheduler alive:
/// it needs it to renew a lost lease.
private struct SchedulerServices: ParticipantServices {
    let scheduler: Scheduler

    func lease(for path: GroupPath, hostname: String, ttl: Duration, reuse: Bool, logger: Logger)
        async throws(CoordinationError) -> KeptLease
    {
        try await scheduler.lease(for: path, hostname: hostname, ttl: ttl, reuse: reuse, logger: logger)
    }

    func follow(_ path: GroupPath, _ subscriber: @escaping GroupFeed.Subscriber) -> @Sendable () -> Void {
        scheduler.follow(path, subscriber)
    }
}
