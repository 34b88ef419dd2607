import BeaconPrimitives
import BeaconCore

/// mgmt's distributed scheduler over a ``CoordinationStore``: hosts join groups, one strategy per
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
/// watches the group's keys and reports the decision when it changes.
public final class Scheduler: Sendable {
    private struct State {
        var active: Set<String> = []
        var reusable: [GroupPath: KeptLease] = [:]
        var closed = false
    }

    /// The store the groups coordinate through.
    public let store: any CoordinationStore
    private let state = PosixMutex(State())

    public init(store: any CoordinationStore) {
        self.store = store
    }

    /// Joins `hostname` to the group at `path`.
    ///
    /// - Throws: ``SchedulerError/invalidPath(_:)``, ``SchedulerError/invalidHostname(_:)``,
    ///   ``SchedulerError/missingStrategy``, ``SchedulerError/unknownStrategy(_:)``,
    ///   ``SchedulerError/invalidOption(_:)``, ``SchedulerError/duplicateRegistration(path:hostname:)``
    ///   if this scheduler already runs that host in that group, ``SchedulerError/closed``, or
    ///   the store's error if the first registration fails.
    public func schedule(path: String, hostname: String, options: ScheduleOptions = .init()) async throws(SchedulerError) -> ScheduleHandle {
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
            leases: LeaseGrants(scheduler: self))
        let release: @Sendable () -> Void = { [state] in
            _ = state.withLock { $0.active.remove(key) }
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

    fileprivate func lease(for path: GroupPath, ttl: Duration, reuse: Bool) async throws(SchedulerError) -> KeptLease {
        if reuse, let kept = state.withLock({ $0.reusable[path] }), !kept.isExpired {
            return kept
        }
        let lease = KeptLease(try await store.grantLease(ttl: ttl), store: store)
        if reuse { state.withLock { $0.reusable[path] = lease } }
        return lease
    }
}

/// The scheduler as its participants' lease source. A running participant keeps its scheduler
/// alive: it needs it to renew a lost lease.
private struct LeaseGrants: LeaseSource {
    let scheduler: Scheduler

    func lease(for path: GroupPath, ttl: Duration, reuse: Bool) async throws(SchedulerError) -> KeptLease {
        try await scheduler.lease(for: path, ttl: ttl, reuse: reuse)
    }
}
