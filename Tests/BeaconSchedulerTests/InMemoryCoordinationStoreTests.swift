import BeaconCore
import Testing

@testable import BeaconCoordination
@testable import BeaconScheduler

/// The embedded store's leases on a manual clock: a lease lapses exactly at its deadline, by the
/// store's own sweeper when nothing else touches the store.
@Suite(.timeLimit(.minutes(1))) struct InMemoryCoordinationStoreTests {
    /// A store with one key under a lease of `ttl`, and a watch on the key's directory.
    private static func storeWithLeasedKey(ttl: Duration, clock: ManualClock) async throws -> (
        store: InMemoryCoordinationStore, lease: LeaseID,
        changes: AsyncThrowingStream<[StoreChange], any Error>.AsyncIterator
    ) {
        let store = InMemoryCoordinationStore(clock: clock)
        let lease = try await store.grantLease(ttl: ttl).id
        _ = try await store.transaction(if: [], then: [.put(key: "/g/k", value: "v", lease: lease)], else: [])
        let changes = store.watch(prefix: "/g/", after: try await store.read(prefix: "/g/").revision)
            .makeAsyncIterator()
        return (store, lease, changes)
    }

    /// etcd's behaviour where the embedded store once differed (the same checks run on a real
    /// etcd in `EtcdStoreTests`); each on a store with no history yet, where a revision that
    /// nothing reports used to make the next watch look compacted.
    @Test func theStoreDoesWhatEtcdDoes() async throws {
        try await StoreParityChecks.aDeleteOfAnAbsentKeyLeavesTheRevision(on: InMemoryCoordinationStore(), under: "/p/")
        try await StoreParityChecks.aKeyEndingInASlashIsUnderItsOwnPrefix(on: InMemoryCoordinationStore(), under: "/p/")
        try await StoreParityChecks.aWatchFromARevisionNotYetReachedSkipsTheChangesBefore(
            on: InMemoryCoordinationStore(), under: "/p/")
        try await StoreParityChecks.aBranchThatWritesAKeyTwiceIsRefused(on: InMemoryCoordinationStore(), under: "/p/")
        try await StoreParityChecks.all(on: InMemoryCoordinationStore(), under: "/all/")
    }

    @Test func anUnrefreshedLeaseLapsesAtItsDeadlineAndNotBefore() async throws {
        let clock = ManualClock()
        var (store, _, changes) = try await Self.storeWithLeasedKey(ttl: .seconds(1), clock: clock)
        await clock.waitForSleepers(1)  // the sweeper, until the lease's deadline
        #expect(clock.nextDeadline == BeaconInstant(nanoseconds: 1_000_000_000))
        try clock.advance(by: .seconds(1) - .nanoseconds(1))
        #expect(try await store.read(prefix: "/g/").values.map(\.key) == ["/g/k"])
        try clock.advance(by: .nanoseconds(1))
        // Nothing reads or writes: the sweeper deletes the key, and the watch reports it.
        #expect(try await changes.next() == [.delete(key: "/g/k", revision: 2)])
    }

    /// A refresh moves the deadline: the sweeper, woken at the old one, finds nothing due and
    /// sleeps until the new one.
    @Test func keepAliveMovesTheDeadline() async throws {
        let clock = ManualClock()
        var (store, lease, changes) = try await Self.storeWithLeasedKey(ttl: .seconds(1), clock: clock)
        await clock.waitForSleepers(1)
        try clock.advance(by: .milliseconds(600))
        #expect(try await store.keepAlive(lease))
        try clock.advance(by: .milliseconds(400))  // the old deadline
        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == BeaconInstant(nanoseconds: 1_600_000_000))
        #expect(try await store.read(prefix: "/g/").values.map(\.key) == ["/g/k"])
        try clock.advance(by: .milliseconds(600))
        #expect(try await changes.next() == [.delete(key: "/g/k", revision: 2)])
        #expect(try await store.keepAlive(lease) == false)
    }

    /// A lease granted after a longer one lapses first: the grant wakes the sweeper, which was
    /// asleep until the longer lease's deadline.
    @Test func aShorterLeaseGrantedLaterLapsesFirst() async throws {
        let clock = ManualClock()
        let store = InMemoryCoordinationStore(clock: clock)
        let long = try await store.grantLease(ttl: .seconds(10)).id
        await clock.waitForSleepers(1)
        let short = try await store.grantLease(ttl: .seconds(1)).id
        _ = try await store.transaction(
            if: [],
            then: [.put(key: "/g/long", value: "v", lease: long), .put(key: "/g/short", value: "v", lease: short)],
            else: [])
        var changes = store.watch(prefix: "/g/", after: 1).makeAsyncIterator()
        try clock.advance(by: .seconds(1))
        #expect(try await changes.next() == [.delete(key: "/g/short", revision: 2)])
        #expect(try await store.read(prefix: "/g/").values.map(\.key) == ["/g/long"])
    }

    /// History is dropped a whole revision at a time: a watch either gets every change of a
    /// revision or is told the history is gone, with where it now begins, as etcd says it.
    @Test func historyIsCompactedWholeRevisionsAtATime() async throws {
        let store = InMemoryCoordinationStore(historyLimit: 3)
        let puts = { (revision: Int) -> [StoreOperation] in
            [.put(key: "/g/a", value: "\(revision)", lease: nil), .put(key: "/g/b", value: "\(revision)", lease: nil)]
        }
        #expect(try await store.transaction(if: [], then: puts(1), else: []).revision == 1)
        #expect(try await store.transaction(if: [], then: puts(2), else: []).revision == 2)
        // Four changes in two revisions, three kept: revision 1 goes whole, not half of it.
        var fromTheStart = store.watch(prefix: "/g/", after: 0).makeAsyncIterator()
        await #expect(throws: CoordinationError.compacted(compactRevision: 2)) { try await fromTheStart.next() }
        var fromOne = store.watch(prefix: "/g/", after: 1).makeAsyncIterator()
        let replayed = try #require(try await fromOne.next())
        #expect(replayed.map(\.revision) == [2, 2])
        #expect(
            SchedulerError(.compacted(compactRevision: 2))
                == .backendFailure("watch: required revision has been compacted (at 2)"))
        #expect(
            SchedulerError(.invalidArgument("lease TTL must be positive"))
                == .invalidOption("lease TTL must be positive"))
    }

    /// Past many compactions the history still holds exactly its limit: the oldest revision kept
    /// replays, the one before it is reported compacted, whichever way the store laid them out.
    @Test(arguments: [1, 5, 8])
    func aLongHistoryKeepsItsLimitAfterManyCompactions(limit: Int) async throws {
        let store = InMemoryCoordinationStore(historyLimit: limit)
        for revision in 1...97 {
            _ = try await store.transaction(
                if: [], then: [.put(key: "/g/k\(revision % 7)", value: "\(revision)", lease: nil)], else: [])
        }
        let oldest = Int64(97 - limit + 1)
        var replay = store.watch(prefix: "/g/", after: oldest - 1).makeAsyncIterator()
        #expect(try await replay.next()?.map(\.revision) == Array(oldest...97))
        var tooOld = store.watch(prefix: "/g/", after: oldest - 2).makeAsyncIterator()
        await #expect(throws: CoordinationError.compacted(compactRevision: oldest)) { try await tooOld.next() }
    }

    /// A watch holds at most its buffer of batches for a reader that takes none; the next batch
    /// ends it, after the ones it holds, with a failure that says to read again. A reader that
    /// keeps up is never ended, however many batches pass.
    @Test func aWatchWhoseReaderTakesNothingEndsPastItsBuffer() async throws {
        let store = InMemoryCoordinationStore(watchBufferLimit: 3)
        func put(_ revision: Int) async throws {
            _ = try await store.transaction(
                if: [], then: [.put(key: "/g/k\(revision)", value: "v", lease: nil)], else: [])
        }
        var stalled = store.watch(prefix: "/g/", after: 0).makeAsyncIterator()
        for revision in 1...5 { try await put(revision) }
        var taken: [Int64] = []
        await #expect(throws: CoordinationError.behind(batches: 3)) {
            while let batch = try await stalled.next() { taken += batch.map(\.revision) }
        }
        #expect(taken == [1, 2, 3])

        var reading = store.watch(prefix: "/g/", after: 5).makeAsyncIterator()
        for revision in 6...20 {
            try await put(revision)
            #expect(try await reading.next()?.map(\.revision) == [Int64(revision)])
        }
    }

    /// A write reaches every watcher whose prefix begins its key, byte by byte, whatever the
    /// prefixes' lengths (the empty one included, and ones that end inside a character of the
    /// key), and no other; a watcher that went away takes nothing from the others.
    @Test func aWriteReachesTheWatchersOfEveryPrefixOfItsKey() async throws {
        let store = InMemoryCoordinationStore()
        let prefixes = ["", "/a/", "/a/b/", "/x", "/a/é", "/a/e", "/a/b/c/d"]
        var watches = prefixes.map { store.watch(prefix: $0, after: 0).makeAsyncIterator() }
        var gone: AsyncThrowingStream<[StoreChange], any Error>.AsyncIterator? =
            store.watch(prefix: "/a/", after: 0).makeAsyncIterator()
        _ = gone
        gone = nil
        // Each watcher's own last key ends its reading, so a watcher that misses keys fails at
        // once instead of waiting for them.
        let keys = ["/a/b/c", "/a/é/k", "/x", "/a/e\u{301}"] + prefixes.map { $0 + "#end" }
        for key in keys {
            _ = try await store.transaction(if: [], then: [.put(key: key, value: "v", lease: nil)], else: [])
        }
        for (index, prefix) in prefixes.enumerated() {
            var seen: [String] = []
            while !seen.contains(prefix + "#end"), let batch = try await watches[index].next() {
                seen += batch.map(\.key)
            }
            let upToItsEnd = keys.prefix { $0 != prefix + "#end" } + [prefix + "#end"]
            #expect(
                seen == upToItsEnd.filter { $0.utf8.starts(with: prefix.utf8) }, "watcher of \(prefix.debugDescription)"
            )
        }
    }

    /// Arguments no store can serve are refused with a typed error, not a trap: a lease longer
    /// than etcd's longest, and a watch after the last revision there can be.
    @Test func aLeaseTooLongAndAWatchAfterTheLastRevisionAreRefused() async throws {
        let store = InMemoryCoordinationStore()
        await #expect(throws: CoordinationError.self) { try await store.grantLease(ttl: .seconds(Int64.max)) }
        await #expect(throws: CoordinationError.self) {
            try await store.grantLease(ttl: GrantedLease.longestTTL + .nanoseconds(1))
        }
        #expect(try await store.grantLease(ttl: GrantedLease.longestTTL).ttl == GrantedLease.longestTTL)
        var watch = store.watch(prefix: "/g/", after: .max).makeAsyncIterator()
        await #expect(throws: CoordinationError.invalidArgument("watch: no revision can follow \(Int64.max)")) {
            try await watch.next()
        }
    }
}
