public import BeaconCoordination
public import BeaconCore
public import BeaconDispatcher
public import BeaconDispatcherCoordination
import BeaconPrimitives
public import BeaconScheduler
public import Logging

/// A leader-elected dispatcher: several managers each run one, they join a scheduling group on
/// a shared `CoordinationStore` (etcd, or the in-memory store) with one seat, and each
/// `Dispatcher` leads only while its manager holds the seat. The others answer every call with
/// `DispatcherError/stopped` (gRPC Aborted), which sends agents on to their next manager —
/// SwarmKit's deployment, with mgmt's scheduler in place of Raft.
///
/// ```swift
/// let dispatcher = try Dispatcher(store: dispatcherStore)
/// let leadership = DispatcherLeadership(
///     dispatcher: dispatcher, store: try EtcdCoordinationStore(endpoints: endpoints),
///     group: "/beacon/dispatchers", name: "manager-1")
/// try await leadership.run()   // until cancelled (or `LifecycleService(leadership)` in a ServiceGroup)
/// ```
///
/// At most one dispatcher of a group leads at a time as far as the store can tell: a manager
/// stops its dispatcher as soon as it learns that another was chosen or that its session lease
/// is gone, and stops before it leaves the group, so the next leader is chosen only once this
/// one has stopped. A manager that cannot reach the store keeps leading until it learns
/// otherwise (the store's view is the only one it has), so the session TTL bounds how long two
/// may overlap after a partition.
///
/// Everything runs on the dispatcher's clock: the scheduler's lease refreshes and retries sleep
/// on it, so a test drives a whole group on one `ManualClock` shared with an
/// `InMemoryCoordinationStore`.
public final class DispatcherLeadership<Clock: BeaconClock>: LongRunningService {
    /// What a manager learnt about its seat, in order.
    public enum Event: Sendable, Hashable {
        /// It joined the group.
        case joined
        /// The group chose `hosts`; the dispatcher now leads if `leading`, and is stopped if not.
        case chosen([String], leading: Bool)
        /// Its session lease lapsed or was revoked; the dispatcher has stopped. The scheduler
        /// registers the manager again under a new lease.
        case leaseLost
        /// The dispatcher stopped leading on its own while this manager held the seat: it could
        /// not start (a heartbeat timer it cannot run, `DispatcherError/alreadyRunning`)
        /// or something else stopped it (`DispatcherError/stopped`). Holding the seat with
        /// nothing leading would leave the group without a dispatcher, so the manager leaves the
        /// group, and ``DispatcherLeadership/run()`` throws the error.
        case dispatcherFailed(DispatcherError)
    }

    /// The dispatcher that leads while this manager is chosen.
    public let dispatcher: Dispatcher<Clock>
    /// The group's path in the store.
    public let group: String
    /// This manager's name in the group.
    public let name: String
    private let store: any CoordinationStore
    private let records: CoordinatedDispatcherStore?
    private let options: ScheduleOptions
    private let logger: Logger
    private let observer: @Sendable (Event) -> Void
    private let leading = PosixMutex(false)

    /// - Parameters:
    ///   - dispatcher: runs only while this manager is chosen; nothing else may run it.
    ///   - store: where the managers coordinate; every manager of the group uses the same one.
    ///   - records: the dispatcher's store when it is kept in a coordination store, so that the
    ///     next leader finds what this one wrote. Each term fences it on the group's choice (its
    ///     writes fail once the group has chosen another manager, even before this one hears of
    ///     it) and reads it up to date before the dispatcher starts, so the new leader starts from
    ///     the last one's final writes. Nil when the dispatcher's store is its own (in memory).
    ///   - group: the group's path (see `GroupPath`).
    ///   - name: this manager's name in the group, unique within it.
    ///   - options: how the group chooses; `maxCount` is set to 1. The default strategy, `rr`,
    ///     keeps a chosen manager while it stays, so a manager that rejoins does not take the
    ///     seat back (every hand-over makes every node register again); `alpha` prefers the
    ///     first name.
    ///   - logger: where the manager logs its events and the group's in-band errors.
    ///   - observer: told every ``Event`` after the dispatcher has followed it (a log line, a
    ///     health endpoint).
    public init(
        dispatcher: Dispatcher<Clock>, store: any CoordinationStore, records: CoordinatedDispatcherStore? = nil,
        group: String, name: String, options: ScheduleOptions = ScheduleOptions(),
        logger: Logger = Logger(label: "beacon.leadership"),
        observer: @escaping @Sendable (Event) -> Void = { _ in }
    ) {
        self.dispatcher = dispatcher
        self.store = store
        self.records = records
        self.group = group
        self.name = name
        var options = options
        options.maxCount = 1
        self.options = options
        self.logger = logger
        self.observer = observer
    }

    /// Whether the dispatcher leads now: false again as soon as a dispatcher that was leading
    /// stops, whether the manager stopped it or it failed.
    public var isLeading: Bool { leading.withLock { $0 } }

    /// Joins the group and leads while chosen, until the task is cancelled; then stops the
    /// dispatcher and leaves the group (so another manager is chosen at once, not a session TTL
    /// later). In-band errors of the group (a store call that failed) are logged and ridden out.
    /// A dispatcher that stops leading on its own (see ``Event/dispatcherFailed(_:)``) ends the
    /// run the same way, and the run throws its error.
    ///
    /// - Throws: the `SchedulerError` of joining (an invalid group or name, or a store that
    ///   cannot be reached), or the `DispatcherError` of a dispatcher that failed while chosen.
    public func run() async throws {
        let scheduler = Scheduler(store: store, clock: dispatcher.clock)
        let handle = try await scheduler.schedule(path: group, hostname: name, options: options)
        logger.info("joined the dispatcher group", metadata: ["group": "\(group)", "name": "\(name)"])
        observer(.joined)
        // The group's choices and a failing dispatcher both end the following: whichever comes
        // first settles `ended`, and the other child is cancelled.
        let ended = Latch<DispatcherError?>()
        var term = await withTaskGroup(of: Term?.self) { children -> Term? in
            children.addTask {
                defer { ended.settle(nil) }
                return await self.follow(
                    handle.results, fence: handle.path.choiceCondition(hosts: [self.name]), ended: ended)
            }
            _ = await ended.wait()
            children.cancelAll()
            return await children.next() ?? nil
        }
        // Stop first, then resign: the next leader is chosen only once this one has stopped.
        await stepDown(&term)
        let failure = ended.value ?? nil
        if let failure {
            logger.error("the dispatcher failed while chosen; leaving the group", metadata: ["error": "\(failure)"])
            observer(.dispatcherFailed(failure))
        }
        await handle.shutdown()
        await scheduler.close()
        if let failure { throw failure }
    }

    /// Follows the group's choices until the task is cancelled; returns the term it leads in.
    private func follow(_ results: ScheduleResults, fence: StoreCondition, ended: Latch<DispatcherError?>) async
        -> Term?
    {
        var term: Term?
        var results = results.makeAsyncIterator()
        while true {
            do {
                guard let chosen = try await results.next() else { break }
                if chosen.contains(name) {
                    if term == nil { term = lead(fencedBy: fence, reportingFailureTo: ended) }
                } else {
                    await stepDown(&term)
                }
                logger.info(
                    "dispatcher group chose", metadata: ["chosen": "\(chosen)", "leading": "\(term != nil)"])
                observer(.chosen(chosen, leading: term != nil))
            } catch .cancelled {
                break
            } catch .leaseLost {
                await stepDown(&term)
                logger.warning("session lease lost; following", metadata: ["group": "\(group)", "name": "\(name)"])
                observer(.leaseLost)
            } catch {
                logger.warning("dispatcher group reported an error", metadata: ["error": "\(error)"])
            }
        }
        return term
    }

    /// One run of the dispatcher while chosen. Whoever ends it first claims it: a step-down, or
    /// the run returning on its own, which is a failure the manager must not sit on.
    private struct Term: Sendable {
        let run: Task<Void, Never>
        let claimed: PosixMutex<Bool>
    }

    private func lead(fencedBy fence: StoreCondition, reportingFailureTo ended: Latch<DispatcherError?>) -> Term {
        leading.withLock { $0 = true }
        let claimed = PosixMutex(false)
        let run = Task { [dispatcher, records, leading, logger] in
            var failure = DispatcherError.stopped
            do throws(DispatcherError) {
                if let records {
                    try await Self.prepare(records, fencedBy: fence, on: dispatcher.clock, logger: logger)
                }
                try await dispatcher.run()
            } catch {
                failure = error
            }
            guard claimed.claim() else {
                // Stepped down: the step-down waits for this run and clears `leading` itself.
                if failure != .stopped {
                    logger.error("dispatcher stopped with an error", metadata: ["error": "\(failure)"])
                }
                return
            }
            leading.withLock { $0 = false }
            ended.settle(failure)
        }
        return Term(run: run, claimed: claimed)
    }

    /// Fences the records on this term's choice and reads them up to date, retrying a store that
    /// does not answer (an in-band error of the group, like the others, ridden out) until the
    /// term ends.
    private static func prepare(
        _ records: CoordinatedDispatcherStore, fencedBy fence: StoreCondition, on clock: Clock, logger: Logger
    ) async throws(DispatcherError) {
        try records.fence(with: [fence])
        var backoff = synchronizeBackoff
        var random = SplitMix64(seed: UInt64(UInt(bitPattern: ObjectIdentifier(records).hashValue)))
        while true {
            do {
                try await records.synchronize()
                return
            } catch {
                logger.warning("cannot read the dispatcher's records; retrying", metadata: ["error": "\(error)"])
            }
            do {
                try await backoff.sleep(on: clock, using: &random)
            } catch {
                throw .stopped
            }
        }
    }

    static var synchronizeBackoff: Backoff { try! Backoff(initial: .milliseconds(100), maximum: .seconds(5)) }

    /// Stops the dispatcher and waits until it has committed its last writes. The task is
    /// cancelled as well as the dispatcher stopped: a `stop()` that comes before `run()` has
    /// started is a no-op, and cancellation ends a run that starts afterwards.
    private func stepDown(_ term: inout Term?) async {
        guard let current = term else { return }
        term = nil
        _ = current.claimed.claim()
        current.run.cancel()
        dispatcher.stop()
        await current.run.value
        leading.withLock { $0 = false }
    }
}

extension PosixMutex<Bool> {
    /// Sets the flag; true for the first caller only.
    fileprivate func claim() -> Bool {
        withLock { claimed in
            defer { claimed = true }
            return !claimed
        }
    }
}
