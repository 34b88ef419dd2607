import BeaconCoordination
import BeaconCore
import BeaconPrimitives
import Logging

/// What a participant needs from its ``Scheduler``.
protocol ParticipantServices: Sendable {
    /// A session lease: a fresh one, or the one a previous participant of the same host in the
    /// same group left alive (``ScheduleOptions/reuseLease``).
    func lease(for path: GroupPath, hostname: String, ttl: Duration, reuse: Bool, logger: Logger)
        async throws(CoordinationError) -> KeptLease
    /// Subscribes to the group's shared ``GroupFeed``; the returned closure unsubscribes.
    func follow(_ path: GroupPath, _ subscriber: @escaping GroupFeed.Subscriber) -> @Sendable () -> Void
}

/// The shell around ``GroupStep``: owns the store calls and the session lease of one host in one
/// group, and feeds every view of the group its ``GroupFeed`` sends through the pure step, in
/// order, one batch of inputs after another. A task runs only while inputs wait: a participant
/// with nothing to do holds no task (a parked task and its frames were about 2 KB, a quarter of
/// a participant; a scheduler may run tens of thousands). Retries after store failures wait on
/// the scheduler's clock with the shared `Backoff`.
final class GroupParticipant: Sendable {
    /// 50 ms doubling to 2 s: quick enough that a blip costs little, capped so that a store down
    /// for minutes is still tried every couple of seconds.
    static let retryBackoff = try! Backoff(initial: .milliseconds(50), maximum: .seconds(2))

    private enum Input: Sendable {
        case feed(GroupFeed.Update)
        case leaseExpired(LeaseID)
        /// A store call of the last step failed: step again, on the newest view.
        case retry
    }

    let path: GroupPath
    let hostname: String
    let results = ResultMailbox()
    private let store: any CoordinationStore
    private let options: ScheduleOptions
    private let strategy: any SchedulingStrategy
    /// What this participant registers under its exchange key.
    private let exchange: ExchangeRecord
    private let services: any ParticipantServices
    private let clock: any BeaconClock
    /// Seeds the loop's jitter, so a scheduler with a seeded random source repeats its delays.
    private let retrySeed: UInt64
    /// The inputs, the task draining them and how the participant was told to stop, under one lock.
    private let control = PosixMutex(Control())

    private struct Control {
        /// Inputs not yet taken, in the order they came.
        var pending: [Input] = []
        /// The task taking and handling `pending`, while there is any.
        var drain: Task<Void, Never>?
        /// What the steps carry from one input to the next; taken by the draining task while
        /// it runs, nil before the participant has registered.
        var loop: Loop?
        /// Ends the subscription to the group's feed.
        var unfollow: (@Sendable () -> Void)?
        var stopped = false
        /// Stopped as a crash would: without a word to the store.
        var abandoned = false
        /// Leaves the group once stopped; every shutdown waits for it.
        var ending: Task<Void, Never>?
        /// Pushes ``Input/retry`` when the back-off after a failed store write has passed; a task
        /// of its own, so that other inputs (a lost lease, new views) are handled meanwhile.
        var retryTimer: Task<Void, Never>?
    }

    /// What the steps carry from one input to the next.
    private struct Loop {
        var lease: KeptLease
        var view: GroupView?
        /// The revision of the last registration: views older than it do not show this
        /// participant yet, and would only make it register again.
        var registeredAt: Int64
        var retry: Retry
        var lastFailure: SchedulerError?
        /// What the last step reported, when it was a follower's with nothing to do: until the
        /// group's decision, the participant's own keys or its lead change, every later step would
        /// be the same. Nil after any other step, and after a view that was not stepped on.
        var quietReport: [String]??
        /// Who the participant is under `lease`, made again only when the lease changes.
        private var identity: ParticipantIdentity?

        init(lease: KeptLease, registeredAt: Int64, retry: Retry) {
            self.lease = lease
            self.registeredAt = registeredAt
            self.retry = retry
        }

        mutating func identity(of participant: GroupParticipant) -> ParticipantIdentity {
            if let identity, identity.lease == lease.id { return identity }
            let made = participant.identity(for: lease)
            identity = made
            return made
        }
    }
    private var logger: Logger { options.logger }
    /// The logger a lease taken for this participant reports its refreshes to. A reused lease
    /// keeps the first participant's, whose host it then names.
    private var leaseLogger: Logger {
        var logger = options.logger
        logger[metadataKey: "host"] = "\(hostname)"
        return logger
    }

    init(
        store: any CoordinationStore, path: GroupPath, hostname: String, options: ScheduleOptions,
        strategy: any SchedulingStrategy, services: any ParticipantServices, clock: any BeaconClock, retrySeed: UInt64
    ) {
        self.store = store
        self.clock = clock
        self.retrySeed = retrySeed
        self.path = path
        self.hostname = hostname
        self.options = options
        exchange = ExchangeRecord(weight: options.weight)
        self.strategy = strategy
        self.services = services
    }

    /// Takes a lease and registers, then follows the group in the background. Throws if the
    /// first registration fails (the store is unreachable, a reused lease vanished), so a
    /// misconfigured participant fails at once instead of reporting errors forever.
    func start() async throws(SchedulerError) {
        let lease: KeptLease
        do {
            lease = try await services.lease(
                for: path, hostname: hostname, ttl: options.sessionTTL, reuse: options.reuseLease, logger: leaseLogger)
        } catch {
            throw SchedulerError(error)
        }
        let registered: Int64
        do {
            registered = try await register(under: lease, claimingTheName: true)
        } catch {
            if !options.reuseLease { await release(lease, revoke: true) }
            throw SchedulerError(error)
        }
        control.withLock { control in
            control.loop = Loop(
                lease: lease, registeredAt: registered,
                retry: Retry(backoff: Self.retryBackoff, random: SplitMix64(seed: retrySeed)))
        }
        watchExpiry(of: lease)
        let unfollow = services.follow(path) { [self] in push(.feed($0)) }
        control.withLock { $0.unfollow = unfollow }
    }

    /// Leaves the group: resigns from the election, revokes the lease (so the others reschedule
    /// at once) unless it is kept for reuse, and ends ``results``. Idempotent; returns once done.
    func shutdown() async {
        await end(abandoning: false)
    }

    /// Stops without a word to the store, as a crashed process would: the lease is no longer
    /// refreshed and lapses after its TTL. For tests of crash removal.
    func abandon() async {
        await end(abandoning: true)
    }

    /// Stops the inputs, cancels the step in progress, then leaves (or abandons) the group from a
    /// task of its own, so that the store calls run even if the caller's task is cancelled.
    private func end(abandoning: Bool) async {
        let (ending, drain) = control.withLock { control -> (Task<Void, Never>, Task<Void, Never>?) in
            if let ending = control.ending { return (ending, nil) }
            control.stopped = true
            control.abandoned = abandoning
            control.retryTimer?.cancel()
            control.retryTimer = nil
            let drain = control.drain
            let ending = Task.detached { [self] in
                await drain?.value
                await finish()
            }
            control.ending = ending
            return (ending, drain)
        }
        // Outside the lock: cancelling runs the cancelled calls' handlers, which take locks of
        // their own (a store's), and a store's watch may be pushing an input here meanwhile.
        drain?.cancel()
        await ending.value
    }

    private func finish() async {
        let (loop, unfollow, abandoned) = control.withLock { control in
            (control.loop.take(), control.unfollow.take(), control.abandoned)
        }
        unfollow?()
        if let loop {
            if abandoned {
                await release(loop.lease, revoke: false)
            } else {
                await leave(lease: loop.lease, view: loop.view ?? GroupView(path: path))
            }
        }
        results.finish()
    }

    // MARK: The inputs

    /// Queues `input`, and starts a task to handle it unless one is running; dropped once the
    /// participant has stopped.
    private func push(_ input: Input) {
        control.withLock { control in
            guard !control.stopped else { return }
            if case .feed(.view(let view)) = input, control.drain == nil, control.pending.isEmpty,
                control.loop != nil, stepInPlace(on: view, &control.loop!)
            {
                return
            }
            control.pending.append(input)
            guard control.drain == nil else { return }
            control.drain = Task.detached { [self] in await drain() }
        }
    }

    /// Handles the inputs queued, batch after batch, until none is left or the participant
    /// stops; then hands the loop's state back and ends.
    private func drain() async {
        let taken = control.withLock { control -> Loop? in
            // With no state to step (not registered yet, or stopped), end as one with no input.
            guard let loop = control.loop.take() else {
                control.drain = nil
                return nil
            }
            return loop
        }
        guard var loop = taken else { return }
        while true {
            let batch = control.withLock { control -> [Input]? in
                guard !control.pending.isEmpty, !control.stopped else {
                    control.loop = loop
                    control.drain = nil
                    return nil
                }
                defer { control.pending = [] }
                return control.pending
            }
            guard let batch else { return }
            await handle(batch, &loop)
        }
    }

    /// The step for one batch: the newest view wins, a lost lease is renewed, and the step runs
    /// on the view once it shows this participant's registration.
    private func handle(_ batch: [Input], _ loop: inout Loop) async {
        loop.quietReport = nil
        for input in batch {
            switch input {
            case .feed(.view(let latest)):
                loop.view = latest
            case .feed(.failed(let error)):
                report(error)
            case .leaseExpired(let id):
                guard id == loop.lease.id else { continue }
                if let revision = await renew(&loop.lease, retry: &loop.retry) { loop.registeredAt = revision }
            case .retry:
                break
            }
        }
        guard !Task.isCancelled else { return }
        guard let current = loop.view, current.revision >= loop.registeredAt else { return }
        let outcome = await act(on: current, &loop)
        if let revision = outcome.registeredAt { loop.registeredAt = revision }
        // Nothing else would step again: the next view comes only when the group changes, which
        // in a quiet group may be never, and the decision or registration that failed would wait
        // for it (mgmt does so). The back-off paces the retries. Only a store that could not be
        // reached or answered in time: a refused argument (a request etcd finds too large) would
        // fail the same way every time.
        if let failure = outcome.failure, case .backendFailure = failure {
            retryStep(after: loop.retry.backoff.nextDelay(using: &loop.retry.random), failure)
        }
    }

    /// Steps on `view` where it arrives, in the feed's hand-off, when the step needs no store
    /// call: no registration and no decision to write, which is what every participant but the
    /// leader gets from a change, and the leader too once its decision is stored. Starting a task
    /// for each participant at each change was most of what a change cost: with ten participants
    /// a join started twenty-two tasks, and now starts one (the leader's, to write). Returns false,
    /// having changed nothing, when the step needs the store; the caller queues the view then.
    private func stepInPlace(on view: GroupView, _ loop: inout Loop) -> Bool {
        guard view.revision >= loop.registeredAt else {
            loop.view = view
            loop.quietReport = nil
            return true
        }
        let identity = loop.identity(of: self)
        // In a large group most changes are other hosts' keys, which a follower's step does not
        // read: skipping them keeps a change's cost from growing with the group's size twice over.
        if let quiet = loop.quietReport, let changed = view.changedKeys, quiet == view.scheduledHosts,
            view.leader?.key != identity.electionKey, !changed.contains(identity.exchangeKey),
            !changed.contains(identity.electionKey)
        {
            loop.view = view
            return true
        }
        let step = GroupStep.compute(
            view: view, identity: identity, strategy: strategy, maxCount: options.maxCount,
            hostsFilter: options.hostsFilter)
        guard !step.mustRegister, step.write == nil else { return false }
        loop.view = view
        loop.quietReport = Self.quietReport(of: step)
        tellFailure(of: step, since: &loop.lastFailure)
        if let result = step.result { results.publish(result) }
        return true
    }

    /// What a step reported, if it was a follower's with nothing to do and nothing to tell.
    private static func quietReport(of step: GroupStep) -> [String]?? {
        guard !step.isLeader, !step.mustRegister, step.write == nil, step.failure == nil else { return nil }
        return .some(step.result)
    }

    /// Reports the strategy's failure in band, once for as long as it lasts.
    private func tellFailure(of step: GroupStep, since lastFailure: inout SchedulerError?) {
        if let failure = step.failure, failure != lastFailure {
            results.report(failure)
        }
        lastFailure = step.failure
    }

    /// Steps again once `delay` has passed on the clock, unless the participant stops first.
    private func retryStep(after delay: Duration, _ failure: SchedulerError) {
        logger.debug("retrying after \(failure)", metadata: ["path": "\(path)", "host": "\(hostname)"])
        let deadline = clock.now.advanced(by: delay)
        control.withLock { control in
            guard !control.stopped else { return }
            control.retryTimer?.cancel()
            control.retryTimer = Task.detached { [weak self, clock] in
                do {
                    try await clock.sleep(until: deadline, tolerance: nil)
                } catch {
                    return
                }
                self?.push(.retry)
            }
        }
    }

    /// Runs the step for `view`; returns the revision of a registration it made, and the error of
    /// a store call that failed (the step must run again).
    private func act(on view: GroupView, _ loop: inout Loop) async -> (registeredAt: Int64?, failure: SchedulerError?) {
        let step = GroupStep.compute(
            view: view, identity: loop.identity(of: self), strategy: strategy, maxCount: options.maxCount,
            hostsFilter: options.hostsFilter)
        var registeredAt: Int64?
        var storeFailure: SchedulerError?
        if step.mustRegister {
            do {
                registeredAt = try await register(under: loop.lease, claimingTheName: false)
                loop.retry.backoff.reset()
            } catch {
                if loop.lease.isExpired || error == .leaseNotFound {
                    registeredAt = await renew(&loop.lease, retry: &loop.retry)
                } else {
                    storeFailure = SchedulerError(error)
                    report(SchedulerError(error))
                }
            }
        }
        tellFailure(of: step, since: &loop.lastFailure)
        if let write = step.write {
            do {
                let outcome = try await store.transaction(
                    if: write.fence,
                    then: [
                        .put(key: path.scheduledKey, value: write.value, lease: nil),
                        .put(key: path.strategyStateKey, value: write.state, lease: nil),
                    ],
                    else: [])
                log("decision \(outcome.succeeded ? "written" : "superseded"): \(write.value)")
                if storeFailure == nil { loop.retry.backoff.reset() }
            } catch {
                storeFailure = SchedulerError(error)
                report(SchedulerError(error))
            }
        }
        if let result = step.result { results.publish(result) }
        loop.quietReport = registeredAt == nil && storeFailure == nil ? Self.quietReport(of: step) : nil
        return (registeredAt, storeFailure)
    }

    /// Reports a store error in band, unless it is the participant's own shutdown cancelling the
    /// call in flight.
    private func report(_ error: SchedulerError) {
        guard !Task.isCancelled else { return }
        results.report(error)
    }

    // MARK: Registration and leases

    private func identity(for lease: KeptLease) -> ParticipantIdentity {
        ParticipantIdentity(path: path, hostname: hostname, lease: lease.id, exchange: exchange)
    }

    /// Writes the exchange key (unless already ours, so at most one watch event) and the election
    /// key (created once per lease: its create revision is the campaign's place in line). Returns
    /// the revision of the last of the two it wrote, 0 if it wrote neither: a store's revision
    /// after a transaction that wrote nothing may belong to keys outside the group, which the
    /// group's watch never brings.
    ///
    /// Joining and registering under a new lease claim the host name (`claimingTheName`): the key
    /// may be a crashed predecessor's, whose lease has not lapsed yet. Between those, a key under
    /// another lease is another live participant's that claimed the name since, and it is left
    /// alone (see ``GroupStep``): this one writes only a key that is absent or still its own.
    private func register(under lease: KeptLease, claimingTheName: Bool) async throws(CoordinationError) -> Int64 {
        let identity = identity(for: lease)
        let put = StoreOperation.put(key: identity.exchangeKey, value: identity.exchange.text, lease: lease.id)
        let ownAsItStands: [StoreCondition] = [
            .value(key: identity.exchangeKey, equals: identity.exchange.text),
            .lease(key: identity.exchangeKey, equals: lease.id),
        ]
        let exchange: (wrote: Bool, revision: Int64)
        if claimingTheName {
            let outcome = try await store.transaction(if: ownAsItStands, then: [], else: [put])
            exchange = (!outcome.succeeded, outcome.revision)
        } else {
            let created = try await store.transaction(
                if: [.createRevision(key: identity.exchangeKey, equals: 0)], then: [put], else: [])
            if created.succeeded {
                exchange = (true, created.revision)
            } else {
                // Already there: this participant's as it stands (only its election key is
                // missing), this participant's with another value, or another's.
                let unchanged = try await store.transaction(if: ownAsItStands, then: [], else: [])
                if unchanged.succeeded {
                    exchange = (false, unchanged.revision)
                } else {
                    let updated = try await store.transaction(
                        if: [.lease(key: identity.exchangeKey, equals: lease.id)], then: [put], else: [])
                    guard updated.succeeded else { return 0 }
                    exchange = (true, updated.revision)
                }
            }
        }
        let election = try await store.transaction(
            if: [.createRevision(key: identity.electionKey, equals: 0)],
            then: [.put(key: identity.electionKey, value: hostname, lease: lease.id)],
            else: [])
        log("registered under lease \(lease.id)")
        return election.succeeded ? election.revision : exchange.wrote ? exchange.revision : 0
    }

    /// The lease is gone (a partition or a paused store outlived the TTL): take a new one and
    /// register again, retrying with back-off until it works or the participant stops. Returns
    /// the registration's revision (see `register(under:)`), nil if the participant stopped first.
    private func renew(_ lease: inout KeptLease, retry: inout Retry) async -> Int64? {
        // Marked so a reusable lease is not handed back to this participant, should the store
        // have answered "lease not found" before the lease keeper noticed.
        lease.onExpired(nil)
        lease.markExpired()
        lease.stop()
        let givenUp = lease
        results.report(.leaseLost)
        logger.warning("session lease lost; registering again", metadata: ["path": "\(path)", "host": "\(hostname)"])
        while !Task.isCancelled {
            var fresh: KeptLease?
            do {
                let granted = try await services.lease(
                    for: path, hostname: hostname, ttl: options.sessionTTL, reuse: options.reuseLease,
                    logger: leaseLogger)
                fresh = granted
                let registered = try await register(under: granted, claimingTheName: true)
                lease = granted
                watchExpiry(of: granted)
                retry.backoff.reset()
                // Revoked once the host is registered again: a lease the keeper gave up on (its
                // refreshes failed until its deadline here) may still live in the store, and its
                // election key, older than the new one, would keep the lead with nobody acting on
                // it until it lapsed there. Revoked before, it would take the host's exchange key
                // with it, and the group would reschedule without the host for a moment.
                await release(givenUp, revoke: true)
                return registered
            } catch {
                // As at the start: a lease this attempt cannot register under is revoked, with
                // the exchange key it may already hold, rather than left standing for a TTL
                // beside the next attempt's. A reusable lease is the host's: the next attempt
                // takes it again.
                if let fresh, !options.reuseLease {
                    fresh.markExpired()
                    await release(fresh, revoke: true)
                }
                await backOff(after: SchedulerError(error), retry: &retry)
            }
        }
        return nil
    }

    private func watchExpiry(of lease: KeptLease) {
        let id = lease.id
        // Weak: a lease kept for reuse outlives its participant, and would otherwise keep it (and
        // through it the scheduler, its keeper and the lease itself) alive and refreshed.
        lease.onExpired { [weak self] in self?.push(.leaseExpired(id)) }
    }

    /// Resigns (deletes this participant's election key, if still its own) and, unless the lease
    /// is kept for reuse, revokes it, which deletes the exchange key too.
    private func leave(lease: KeptLease, view: GroupView) async {
        let key = path.electionKey(lease.id)
        var resigned = true
        do throws(CoordinationError) {
            // A participant stopped soon after joining may hold only views from before its
            // registration; the store then says which election key to resign. So may one whose
            // host's kept lease campaigned again since its view was taken (another participant
            // of the host resigned, then this one campaigned under the same lease): the fenced
            // delete then finds a newer key, which is this lease's too, and resigns that.
            func resign(_ election: StoredValue) async throws(CoordinationError) -> Bool {
                try await store.transaction(
                    if: [.createRevision(key: key, equals: election.createRevision)], then: [.delete(key: key)],
                    else: []
                ).succeeded
            }
            var done = false
            if let seen = view[key] { done = try await resign(seen) }
            if !done, let stored = try await store.read(prefix: key).values.first(where: { $0.key == key }) {
                resigned = try await resign(stored)
            }
        } catch {
            resigned = false
        }
        // A lease kept for reuse whose election key may still stand would keep the lead, with
        // nobody acting on it, until the scheduler closes: it is revoked instead, which deletes
        // the key, and the next participant of the host takes a new one.
        if !options.reuseLease || !resigned {
            lease.markExpired()
            await release(lease, revoke: true)
        }
        log("left the group")
    }

    private func release(_ lease: KeptLease, revoke: Bool) async {
        lease.onExpired(nil)
        lease.stop()
        guard revoke else { return }
        // From a task of its own: the caller's may be cancelled (a `schedule()` given up on
        // mid-registration, a renewal that `shutdown()` stopped), and a store that cancels its
        // requests with their task, as the etcd store's HTTP client does, would leave the lease
        // and the host's exchange key standing for a TTL, a host the group could still choose.
        let store = store
        await Task.detached { try? await store.revoke(lease.id) }.value
    }

    // MARK: Retrying

    /// Waits the next back-off delay on the clock; returns early if the participant stops.
    private func backOff(after error: any Error, retry: inout Retry) async {
        logger.debug("retrying after \(error)", metadata: ["path": "\(path)", "host": "\(hostname)"])
        try? await retry.backoff.sleep(on: clock, using: &retry.random)
    }

    private func log(_ message: @autoclosure () -> String) {
        let level: Logger.Level = options.debug ? .info : .debug
        logger.log(level: level, "\(message())", metadata: ["path": "\(path)", "host": "\(hostname)"])
    }
}

/// The steps' retry pacing: the doubling delay and the random source of its jitter, owned by the
/// draining task alone.
private struct Retry {
    var backoff: Backoff
    var random: SplitMix64
}
