import BeaconCore
import Synchronization
import Testing

@testable import BeaconCoordination
@testable import BeaconScheduler

/// The embedded store, whose first `failingReads` range reads fail as an unreachable etcd's
/// would, and whose first `failingWrites` transactions that `failsWrite` picks fail the same way.
private final class FailingStore: CoordinationStore {
    private let base: InMemoryCoordinationStore
    private let readFailuresLeft: Atomic<Int>
    private let writeFailuresLeft: Atomic<Int>
    /// Whether lease refreshes fail, as over a connection to etcd that times out.
    let failsRefreshes = Atomic(false)
    private let failsWrite: @Sendable ([StoreOperation]) -> Bool

    init(
        _ base: InMemoryCoordinationStore, failingReads: Int = 0, failingWrites: Int = 0,
        where failsWrite: @escaping @Sendable ([StoreOperation]) -> Bool = { _ in true }
    ) {
        self.base = base
        readFailuresLeft = Atomic(failingReads)
        writeFailuresLeft = Atomic(failingWrites)
        self.failsWrite = failsWrite
    }

    /// From now on, the next `count` transactions that `failsWrite` picks fail.
    func failNextWrites(_ count: Int) {
        writeFailuresLeft.store(count, ordering: .relaxed)
    }

    /// A participant's campaign (its election key, written once per lease).
    static let campaigns: @Sendable ([StoreOperation]) -> Bool = { operations in
        operations.contains { if case .put(let key, _, _) = $0 { key.contains("/election/") } else { false } }
    }
    /// A group's decision.
    static let decisions: @Sendable ([StoreOperation]) -> Bool = { operations in
        operations.contains { if case .put(let key, _, _) = $0 { key.hasSuffix("/scheduled") } else { false } }
    }
    /// A participant's resignation.
    static let resignations: @Sendable ([StoreOperation]) -> Bool = { operations in
        operations.contains { if case .delete(let key) = $0 { key.contains("/election/") } else { false } }
    }

    func grantLease(ttl: Duration) async throws(CoordinationError) -> GrantedLease {
        try await base.grantLease(ttl: ttl)
    }
    func keepAlive(_ lease: LeaseID) async throws(CoordinationError) -> Bool {
        if failsRefreshes.load(ordering: .relaxed) { throw .failure("etcdserver: request timed out") }
        return try await base.keepAlive(lease)
    }
    func revoke(_ lease: LeaseID) async throws(CoordinationError) { try await base.revoke(lease) }

    func read(prefix: String) async throws(CoordinationError) -> StoreSnapshot {
        if readFailuresLeft.subtract(1, ordering: .relaxed).newValue >= 0 { throw .failure("unreachable") }
        return try await base.read(prefix: prefix)
    }

    func transaction(
        if conditions: [StoreCondition], then success: [StoreOperation], else failure: [StoreOperation]
    ) async throws(CoordinationError) -> TransactionOutcome {
        if failsWrite(success), writeFailuresLeft.subtract(1, ordering: .relaxed).newValue >= 0 {
            throw .failure("etcdserver: request timed out")
        }
        return try await base.transaction(if: conditions, then: success, else: failure)
    }

    func watch(prefix: String, after revision: Int64) -> AsyncThrowingStream<[StoreChange], any Error> {
        base.watch(prefix: prefix, after: revision)
    }
}

/// The embedded store, with two habits of the etcd store's HTTP client: a call made from a
/// cancelled task fails, and a participant's campaign waits until its task is cancelled (a
/// store slow enough that the caller gives up).
private final class CancellingStore: CoordinationStore {
    let base: InMemoryCoordinationStore
    private let campaignsStarted: AsyncStream<Void>.Continuation
    let campaigns: AsyncStream<Void>

    init(_ base: InMemoryCoordinationStore) {
        self.base = base
        (campaigns, campaignsStarted) = AsyncStream.makeStream()
    }

    private func failIfCancelled() throws(CoordinationError) {
        if Task.isCancelled { throw .failure("the request was cancelled with its task") }
    }

    func grantLease(ttl: Duration) async throws(CoordinationError) -> GrantedLease {
        try failIfCancelled()
        return try await base.grantLease(ttl: ttl)
    }
    func keepAlive(_ lease: LeaseID) async throws(CoordinationError) -> Bool { try await base.keepAlive(lease) }
    func revoke(_ lease: LeaseID) async throws(CoordinationError) {
        try failIfCancelled()
        try await base.revoke(lease)
    }
    func read(prefix: String) async throws(CoordinationError) -> StoreSnapshot {
        try failIfCancelled()
        return try await base.read(prefix: prefix)
    }
    func transaction(
        if conditions: [StoreCondition], then success: [StoreOperation], else failure: [StoreOperation]
    ) async throws(CoordinationError) -> TransactionOutcome {
        try failIfCancelled()
        if FailingStore.campaigns(success) {
            campaignsStarted.yield()
            // Ends when the task is cancelled: nothing is ever yielded to it.
            let (never, keptOpen) = AsyncStream<Void>.makeStream()
            for await _ in never {}
            keptOpen.finish()
            try failIfCancelled()
        }
        return try await base.transaction(if: conditions, then: success, else: failure)
    }
    func watch(prefix: String, after revision: Int64) -> AsyncThrowingStream<[StoreChange], any Error> {
        base.watch(prefix: prefix, after: revision)
    }
}

@Suite(.timeLimit(.minutes(1))) struct ParticipantBackoffTests {
    /// A lease whose refreshes failed until the keeper's deadline may still live in the store
    /// (here another client refreshes it, as etcd would have extended it over a connection that
    /// only this participant lost): the participant revokes it when it registers again, where
    /// it used to leave it, and its election key, older than the new one, would have kept the
    /// lead with nobody acting on it until the lease lapsed.
    @Test func aLeaseTheKeeperGaveUpOnIsRevokedWhenTheParticipantRegistersAgain() async throws {
        let clock = ManualClock()
        let base = InMemoryCoordinationStore(clock: clock)
        let store = FailingStore(base)
        let scheduler = Scheduler(store: store, clock: clock, random: SplitMix64(seed: 12))
        let handle = try await scheduler.schedule(
            path: "/k", hostname: "a", options: options("alpha", ttl: .seconds(3)))
        try await handle.waitFor(["a"])
        let campaign = try #require(try await base.read(prefix: "/k/election/").values.first)
        let old = try #require(campaign.lease)
        store.failsRefreshes.store(true, ordering: .relaxed)
        for _ in 0..<3 {
            await clock.waitForSleepers(2)
            try clock.advance(by: .seconds(1))
            #expect(try await base.keepAlive(old))
        }
        // Registered again first, then the old lease revoked: the host's exchange key moved to
        // the new lease meanwhile, so the host never left the group.
        try await until("a campaigns under a new lease, and the old campaign is gone", in: base, prefix: "/k/") {
            snapshot in
            snapshot.values.contains { $0.value == "a" && $0.key.hasPrefix("/k/election/") && $0.lease != old }
                && !snapshot.values.contains { $0.key == campaign.key }
        }
        #expect(try await base.value("/k/exchange/a")?.lease != old)
        #expect(try await base.keepAlive(old) == false)
        store.failsRefreshes.store(false, ordering: .relaxed)
        await handle.shutdown()
        await scheduler.close()
    }

    /// A `schedule()` cancelled while it registers (its exchange key written, its campaign not)
    /// revokes its lease from a task of its own: revoked from the cancelled one, on a store that
    /// cancels requests with their task, the host stayed in the group for a TTL with nobody
    /// behind it, where a strategy could choose it.
    @Test func aJoinCancelledMidRegistrationLeavesNoHostBehind() async throws {
        let clock = ManualClock()
        let store = CancellingStore(InMemoryCoordinationStore(clock: clock))
        let scheduler = Scheduler(store: store, clock: clock, random: SplitMix64(seed: 11))
        let joining = Task {
            try await scheduler.schedule(path: "/c", hostname: "h", options: options(ttl: .seconds(30)))
        }
        var campaigns = store.campaigns.makeAsyncIterator()
        _ = await campaigns.next()
        #expect(try await store.base.read(prefix: "/c/exchange/").values.map(\.key) == ["/c/exchange/h"])
        joining.cancel()
        await #expect(throws: SchedulerError.self) { _ = try await joining.value }
        #expect(try await store.base.read(prefix: "/c/").values.isEmpty)
        #expect(store.base.leaseDeadlines.isEmpty)
        await scheduler.close()
    }

    /// A group that cannot be read is read again on the scheduler's clock with the shared
    /// back-off: 50 ms doubling, each delay drawn from the scheduler's seeded random source.
    @Test func aFailingStoreIsRetriedWithADoublingBackoffInVirtualTime() async throws {
        let clock = ManualClock()
        let store = FailingStore(InMemoryCoordinationStore(clock: clock), failingReads: 3)
        let scheduler = Scheduler(store: store, clock: clock, random: SplitMix64(seed: 9))
        let handle = try await scheduler.schedule(path: "/retry", hostname: "h1", options: options(ttl: .seconds(5)))
        // The scheduler's source seeds the participant first, then the group's feed, which reads.
        var seeds = SplitMix64(seed: 9)
        _ = seeds.next()
        var jitter = SplitMix64(seed: seeds.next())
        var expected = GroupParticipant.retryBackoff
        var ceiling = Duration.milliseconds(50)
        for _ in 0..<3 {
            await clock.waitForSleepers(3)  // the lease keeper, the store's sweeper, the back-off
            #expect(clock.sleeperCount == 3)  // and nothing else: the wait returns at "at least"
            let retryAt = try #require(clock.nextDeadline)
            let delay = clock.now.duration(to: retryAt)
            #expect(delay == expected.nextDelay(using: &jitter))
            #expect(delay >= ceiling / 2 && delay <= ceiling)
            try clock.advance(to: retryAt)
            ceiling *= 2
        }
        var results = handle.results.makeAsyncIterator()
        #expect(try await next(&results) == ["h1"])
        await handle.shutdown()
        await scheduler.close()
    }

    /// A leader whose decision write fails writes it again after a back-off, though the group
    /// does not change: nothing else would make it step again (mgmt waits for the next change).
    @Test func aFailedDecisionIsWrittenAgainInAQuietGroup() async throws {
        let clock = ManualClock()
        let store = FailingStore(
            InMemoryCoordinationStore(clock: clock), failingWrites: 2, where: FailingStore.decisions)
        let scheduler = Scheduler(store: store, clock: clock, random: SplitMix64(seed: 4))
        let handle = try await scheduler.schedule(path: "/quiet", hostname: "h1", options: options(ttl: .seconds(5)))
        for _ in 0..<2 {
            await clock.waitForSleepers(3)  // the lease keeper, the store's sweeper, the back-off
            try clock.advance(to: try #require(clock.nextDeadline))
        }
        // The failures are reported in band, then the decision.
        var results = handle.results.makeAsyncIterator()
        var failures = 0
        while true {
            do throws(SchedulerError) {
                #expect(try await results.next() == ["h1"])
                break
            } catch .backendFailure {
                failures += 1
            }
        }
        #expect(failures >= 1)
        await handle.shutdown()
        await scheduler.close()
    }

    /// A participant that lost its lease and cannot register under the next one revokes that
    /// one before it tries again, as it does when its first registration fails: left to lapse,
    /// it would stand for a TTL, with the exchange key already written under it, beside the
    /// lease of the attempt that works.
    @Test func aLeaseTakenForAFailedRegistrationAfterALossIsRevoked() async throws {
        // On the system clock: the retry waits out a 50 ms back-off. The lease is revoked by hand
        // below, so its TTL only has to outlast the machine: with 30 s, a CI run that starved the
        // test's tasks for longer (every suite of the parallel run took 40 s) let it lapse before
        // the test read it.
        let base = InMemoryCoordinationStore()
        let store = FailingStore(base, where: FailingStore.campaigns)
        let scheduler = Scheduler(store: store)
        let handle = try await scheduler.schedule(path: "/renew", hostname: "h1", options: options(ttl: .seconds(3600)))
        var results = handle.results.makeAsyncIterator()
        #expect(try await next(&results) == ["h1"])
        let first = try #require(try await base.read(prefix: "/renew/exchange/").values.first?.lease)

        // The lease is revoked behind the participant's back; its next campaign fails once.
        store.failNextWrites(1)
        try await base.revoke(first)
        var lost = false
        while true {
            do throws(SchedulerError) {
                guard let hosts = try await results.next() else {
                    Issue.record("the results ended before the participant registered again")
                    break
                }
                if hosts == ["h1"], lost { break }
            } catch .leaseLost {
                lost = true
            }
        }
        // One lease stands: the one the participant registered under in the end.
        #expect(try await base.read(prefix: "/renew/exchange/").values.count == 1)
        #expect(base.leaseDeadlines.count == 1)
        await handle.shutdown()
        await scheduler.close()
    }

    /// A leader keeping its lease for reuse whose resignation fails revokes the lease instead:
    /// its election key must not hold the group's lead until the scheduler closes.
    @Test func aKeptLeaseWhoseResignationFailsIsRevoked() async throws {
        let base = InMemoryCoordinationStore()
        let store = FailingStore(base, failingWrites: 1, where: FailingStore.resignations)
        let scheduler = Scheduler(store: store)
        var options = ScheduleOptions()
        options.reuseLease = true
        let leader = try await scheduler.schedule(path: "/kept", hostname: "h1", options: options)
        try await leader.waitFor(["h1"])
        await leader.shutdown()
        #expect(try await base.read(prefix: "/kept/election/").values.isEmpty)
        // The host comes back under a new lease and leads again.
        let again = try await scheduler.schedule(path: "/kept", hostname: "h1", options: options)
        try await again.waitFor(["h1"])
        await again.shutdown()
        await scheduler.close()
    }
}
