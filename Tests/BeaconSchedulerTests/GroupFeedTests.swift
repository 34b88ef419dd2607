import BeaconCore
import Synchronization
import Testing

@testable import BeaconCoordination
@testable import BeaconScheduler

/// The embedded store, counting the watches opened on it and able to break every open one, as a
/// dropped connection to etcd would, or to hold back what they deliver, as a slow one would.
private final class WatchedStore: CoordinationStore {
    private struct Watches {
        var opened = 0
        var open: [Int: AsyncThrowingStream<[StoreChange], any Error>.Continuation] = [:]
        var held = false
        var heldBack: [(AsyncThrowingStream<[StoreChange], any Error>.Continuation, [StoreChange])] = []
    }

    private let base: InMemoryCoordinationStore
    private let watches = Mutex(Watches())

    init(_ base: InMemoryCoordinationStore) {
        self.base = base
    }

    var opened: Int { watches.withLock { $0.opened } }

    /// Ends every open watch with `error`.
    func breakWatches(_ error: CoordinationError) {
        let open = watches.withLock { $0.open.values }
        for continuation in open { continuation.finish(throwing: error) }
    }

    /// From now on the watches deliver nothing until ``releaseWatches()``.
    func holdWatches() {
        watches.withLock { $0.held = true }
    }

    /// Delivers what the watches held back, in order, and lets them deliver again.
    func releaseWatches() {
        watches.withLock { watches in
            watches.held = false
            for (continuation, batch) in watches.heldBack { continuation.yield(batch) }
            watches.heldBack = []
        }
    }

    private func deliver(
        _ batch: [StoreChange], to continuation: AsyncThrowingStream<[StoreChange], any Error>.Continuation
    ) {
        watches.withLock { watches in
            if watches.held {
                watches.heldBack.append((continuation, batch))
            } else {
                continuation.yield(batch)
            }
        }
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
        try await base.transaction(if: conditions, then: success, else: failure)
    }

    func watch(prefix: String, after revision: Int64) -> AsyncThrowingStream<[StoreChange], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[StoreChange], any Error>.makeStream()
        let changes = base.watch(prefix: prefix, after: revision)
        let forward = Task { [self] in
            do {
                for try await batch in changes { deliver(batch, to: continuation) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        let token = watches.withLock { watches in
            watches.opened += 1
            watches.open[watches.opened] = continuation
            return watches.opened
        }
        continuation.onTermination = { [self] _ in
            forward.cancel()
            _ = watches.withLock { $0.open.removeValue(forKey: token) }
        }
        return stream
    }
}

@Suite(.timeLimit(.minutes(1))) struct GroupFeedTests {
    /// mgmt opens a watch per participant; a scheduler opens one per group, however many of its
    /// participants are in it, and a new one once the group's last participant has left.
    @Test func theParticipantsOfOneGroupShareOneWatch() async throws {
        let clock = ManualClock()
        let store = WatchedStore(InMemoryCoordinationStore(clock: clock))
        let scheduler = Scheduler(store: store, clock: clock, random: SplitMix64(seed: 3))
        let settings = options("alpha", max: 10, ttl: .seconds(5))
        var first: [ScheduleHandle] = []
        for host in ["a", "b", "c", "d"] {
            first.append(try await scheduler.schedule(path: "/one", hostname: host, options: settings))
        }
        let other = try await scheduler.schedule(path: "/two", hostname: "a", options: settings)
        for handle in first { try await handle.waitFor(["a", "b", "c", "d"]) }
        try await other.waitFor(["a"])
        #expect(store.opened == 2)

        for handle in first { await handle.shutdown() }
        let again = try await scheduler.schedule(path: "/one", hostname: "e", options: settings)
        try await again.waitFor(["e"])
        #expect(store.opened == 3)
        // The other group's feed was not disturbed.
        let joiner = try await scheduler.schedule(path: "/two", hostname: "b", options: settings)
        try await other.waitFor(["a", "b"])
        try await joiner.waitFor(["a", "b"])
        #expect(store.opened == 3)

        for handle in [other, again, joiner] { await handle.shutdown() }
        await scheduler.close()
    }

    /// A follower skips the changes its step does not read (other hosts' keys), but not its own:
    /// a follower whose exchange key, then election key, another writer deletes registers each
    /// again, though the group's decision (the first host) stays the same throughout.
    @Test func aFollowerWhoseKeysAnotherWriterDeletesRegistersAgain() async throws {
        let clock = ManualClock()
        let store = InMemoryCoordinationStore(clock: clock)
        let scheduler = Scheduler(store: store, clock: clock, random: SplitMix64(seed: 5))
        let settings = options("alpha", max: 1, ttl: .seconds(5))
        var handles: [ScheduleHandle] = []
        for host in ["a", "b", "c"] {
            handles.append(try await scheduler.schedule(path: "/f", hostname: host, options: settings))
        }
        for handle in handles { try await handle.waitFor(["a"]) }
        let exchange = try #require(try await store.value("/f/exchange/b"))
        let election = try #require(
            try await store.read(prefix: "/f/election/").values.first { $0.value == "b" })

        // Changes the follower does not read come first, then its own key goes.
        _ = try await store.transaction(if: [], then: [.put(key: "/f/other", value: "x", lease: nil)], else: [])
        _ = try await store.transaction(if: [], then: [.delete(key: "/f/exchange/b")], else: [])
        try await until("b's exchange key back", in: store, prefix: "/f/exchange/") {
            $0.values.contains { $0.key == "/f/exchange/b" && $0.lease == exchange.lease }
        }
        _ = try await store.transaction(if: [], then: [.delete(key: election.key)], else: [])
        try await until("b's election key back", in: store, prefix: "/f/election/") {
            $0.values.contains { $0.key == election.key }
        }
        for handle in handles { try await handle.waitFor(["a"]) }
        for handle in handles { await handle.shutdown() }
        await scheduler.close()
    }

    /// Two processes that join one group under one host name (two schedulers here) used to
    /// write the name's key over each other forever: each took a key under the other's lease as
    /// its own gone stale. The later one now holds the name; the earlier one is told in band,
    /// stands by still learning the chosen set, and takes the name back once the later leaves.
    @Test func aHostNameTwoProcessesJoinUnderIsHeldByTheLaterAndNotFoughtOver() async throws {
        let clock = ManualClock()
        let store = InMemoryCoordinationStore(clock: clock)
        let (earlier, later) = (
            Scheduler(store: store, clock: clock, random: SplitMix64(seed: 6)),
            Scheduler(store: store, clock: clock, random: SplitMix64(seed: 7))
        )
        let settings = options("alpha", max: 2, ttl: .seconds(5))
        let standing = try await earlier.schedule(path: "/dup", hostname: "h", options: settings)
        try await standing.waitFor(["h"])
        let newcomer = try await later.schedule(path: "/dup", hostname: "h", options: settings)
        let claimed = try #require(try await store.value("/dup/exchange/h"))
        let taken = SchedulerError.hostNameTaken(path: "/dup", hostname: "h")
        let told = await standing.participant.results.observe { $0.unreadErrors.contains(taken) }
        #expect(told?.unreadErrors.contains(taken) == true)

        // A third host joins and everyone learns of it: by then a fight over the name would have
        // rewritten its key many times over.
        let other = try await later.schedule(path: "/dup", hostname: "x", options: settings)
        for handle in [standing, newcomer, other] { try await handle.waitFor(["h", "x"]) }
        #expect(try await store.value("/dup/exchange/h") == claimed)

        await newcomer.shutdown()
        try await until("the standing participant takes the name back", in: store, prefix: "/dup/exchange/") {
            $0.values.contains { $0.key == "/dup/exchange/h" && $0.lease != nil && $0.lease != claimed.lease }
        }
        try await standing.waitFor(["h", "x"])
        for handle in [standing, other] { await handle.shutdown() }
        await earlier.close()
        await later.close()
    }

    /// A participant of a host whose kept lease another participant of that host resigned and
    /// then campaigned under again may hold a view older than its own campaign: its
    /// resignation, fenced on the view's create revision, deleted nothing, and was taken as done,
    /// so the kept lease went on refreshing a candidacy nobody acted on, which would lead once
    /// the older candidates left. It now reads the key and resigns that.
    @Test func aResignationFromAStaleViewStillTakesTheCandidacyAway() async throws {
        let clock = ManualClock()
        let store = WatchedStore(InMemoryCoordinationStore(clock: clock))
        let scheduler = Scheduler(store: store, clock: clock, random: SplitMix64(seed: 8))
        var kept = options("alpha", max: 2, ttl: .seconds(5))
        kept.reuseLease = true
        let other = try await scheduler.schedule(
            path: "/r", hostname: "x", options: options("alpha", max: 2, ttl: .seconds(5)))
        let first = try await scheduler.schedule(path: "/r", hostname: "h", options: kept)
        for handle in [other, first] { try await handle.waitFor(["h", "x"]) }
        let campaign = try #require(try await store.read(prefix: "/r/election/").values.first { $0.value == "h" })

        // The group's feed hears nothing more while the host's first participant resigns and
        // the second campaigns under the same kept lease, then leaves with the feed's old view.
        store.holdWatches()
        await first.shutdown()
        let second = try await scheduler.schedule(path: "/r", hostname: "h", options: kept)
        let again = try #require(try await store.value(campaign.key))
        #expect(again.createRevision > campaign.createRevision)
        await second.shutdown()
        store.releaseWatches()
        #expect(try await store.value(campaign.key) == nil)

        await other.shutdown()
        await scheduler.close()
    }

    /// A broken watch reaches every participant of the group in band; the feed reads the group
    /// again after the back-off, on the scheduler's clock, and its participants follow changes
    /// made meanwhile.
    @Test func aBrokenWatchIsReportedToEveryParticipantAndTheGroupIsReadAgain() async throws {
        let clock = ManualClock()
        let store = WatchedStore(InMemoryCoordinationStore(clock: clock))
        let scheduler = Scheduler(store: store, clock: clock, random: SplitMix64(seed: 4))
        let settings = options("alpha", max: 10, ttl: .seconds(5))
        let a = try await scheduler.schedule(path: "/g", hostname: "a", options: settings)
        let b = try await scheduler.schedule(path: "/g", hostname: "b", options: settings)
        var aResults = a.results.makeAsyncIterator()
        var bResults = b.results.makeAsyncIterator()
        try await a.waitFor(["a", "b"])
        try await b.waitFor(["a", "b"])
        while try await next(&aResults) != ["a", "b"] {}
        while try await next(&bResults) != ["a", "b"] {}

        store.breakWatches(.failure("connection reset"))
        await #expect(throws: SchedulerError.backendFailure("connection reset")) { try await aResults.next() }
        await #expect(throws: SchedulerError.backendFailure("connection reset")) { try await bResults.next() }

        // Nothing is read again until the back-off has passed on the clock: the scheduler's
        // lease keeper (one task for the three leases), the store's sweeper and the feed wait on it.
        let c = try await scheduler.schedule(path: "/g", hostname: "c", options: settings)
        await clock.waitForSleepers(3)
        #expect(store.opened == 1)
        try clock.advance(by: .milliseconds(50))
        try await a.waitFor(["a", "b", "c"])
        try await b.waitFor(["a", "b", "c"])
        try await c.waitFor(["a", "b", "c"])
        #expect(store.opened == 2)

        for handle in [a, b, c] { await handle.shutdown() }
        await scheduler.close()
    }
}
