import BeaconCore
import Testing

@testable import BeaconCoordination
@testable import BeaconScheduler

#if Etcd
import EtcdTestSupport
#endif

/// A coordination store for one test, on either backend, and how to stop it.
struct StoreFixture: Sendable {
    let store: any CoordinationStore
    /// A session TTL short enough for expiry tests, and no shorter than the store allows.
    let ttl: Duration
    /// The virtual clock the store and the scheduler run on; nil when the backend keeps real
    /// time (etcd counts its leases down on the server).
    let clock: ManualClock?
    let stop: @Sendable () async -> Void
    /// The etcd server when the backend is etcd (for fault tests).
    let server: (any ControllableServer)?

    /// A scheduler on this store, on the fixture's clock, with a fixed seed for its back-offs.
    func makeScheduler() -> Scheduler {
        if let clock {
            Scheduler(store: store, clock: clock, random: SplitMix64(seed: 20))
        } else {
            Scheduler(store: store)
        }
    }

    /// Lets `duration` pass. On the virtual clock it moves in steps of a quarter TTL, each taken
    /// once the shells are parked again, so every live lease is refreshed (every third of its
    /// TTL) before its deadline, as it would be in real time. Parked means: the scheduler's lease
    /// keeper, while it keeps any of the `refreshedLeases` alive, and the store's sweeper, which
    /// sleeps while any lease exists. With real time, it sleeps.
    func pass(_ duration: Duration, refreshedLeases: Int) async throws {
        guard let clock else {
            try await Task.sleep(for: duration)  // etcd: real time, the server's clock
            return
        }
        let sleepers = (refreshedLeases > 0 ? 1 : 0) + 1
        try await parked(clock, sleepers)
        var left = duration
        while left > .zero {
            let move = min(ttl / 4, left)
            try await refreshesLanded(refreshedLeases, beyond: clock.now.advanced(by: move))
            try clock.advance(by: move)
            left -= move
            try await parked(clock, sleepers)
        }
    }

    /// Waits until `count` leases end after `instant` (any `count`: the store does not say which
    /// leases are refreshed, so a lease left to lapse counts too while it lives, and the wait is
    /// then weaker than it reads). A keeper whose refresh is in flight
    /// sleeps until that lease's deadline at the latest meanwhile, so it counts as parked although the refresh
    /// may not have reached the store yet; moving the clock past the deadline before it lands
    /// would lose a lease that real time keeps. Nothing sleeps: the wait yields until the
    /// refresh has run. A lease that lapsed all the same fails the test at once, where waiting
    /// for its keeper to park again would hang it until the time limit.
    private func refreshesLanded(_ count: Int, beyond instant: BeaconInstant) async throws {
        guard let memory = store as? InMemoryCoordinationStore, let clock else { return }
        while true {
            let deadlines = memory.leaseDeadlines
            if deadlines.filter({ $0 > instant }).count >= count { return }
            try #require(
                deadlines.filter { $0 > clock.now }.count >= count,
                "one of \(count) leases kept alive lapsed while the test moved the clock")
            try Task.checkCancellation()
            await Task.yield()
        }
    }

    /// Waits until `sleepers` shells sleep on `clock` and checks that no more do: the wait
    /// returns at "at least", so a sleeper the count did not expect (a participant in a back-off)
    /// could otherwise stand in for a keeper that is still running. Fewer after the wait
    /// means one woke in between: a keeper sleeps until a deadline while a refresh is in
    /// flight, and wakes when the answer comes to sleep until the next refresh. It waits again.
    /// A count taken while a refresh is still in flight passes; the next step then comes before
    /// that answer is handled, which only moves that lease's next refresh later by less than a
    /// step (a quarter TTL), as a slow store would: every refresh still comes within the TTL.
    private func parked(_ clock: ManualClock, _ sleepers: Int) async throws {
        while true {
            await clock.waitForSleepers(sleepers)
            try Task.checkCancellation()
            let count = clock.sleeperCount
            try #require(count <= sleepers, "an unexpected shell sleeps on the clock")
            if count == sleepers { return }
        }
    }
}

/// A store server a fault test can pause, resume and restart.
protocol ControllableServer: Sendable {
    func pause() throws
    func resume() throws
    func restart() async throws
}

enum Backend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case memory
    #if Etcd
    case etcd
    #endif

    var testDescription: String { rawValue }

    func makeFixture() async throws -> StoreFixture {
        switch self {
        case .memory:
            let clock = ManualClock()
            return StoreFixture(
                store: InMemoryCoordinationStore(clock: clock), ttl: .seconds(5), clock: clock, stop: {}, server: nil)
        #if Etcd
        case .etcd:
            return try await EtcdTestServer.fixture()
        #endif
        }
    }
}

/// Runs `body` with a fresh store on `backend` and a scheduler on it, and stops both however
/// `body` ends — an etcd server a failed test started must not outlive it.
func withScheduler(_ backend: Backend, _ body: (StoreFixture, Scheduler) async throws -> Void) async throws {
    let fixture = try await backend.makeFixture()
    let scheduler = fixture.makeScheduler()
    do {
        try await body(fixture, scheduler)
    } catch {
        await scheduler.close()
        await fixture.stop()
        throw error
    }
    await scheduler.close()
    await fixture.stop()
}

/// Returns once the keys under `prefix` satisfy `condition`: reads them, and while the condition
/// fails, waits for the store's next change under the prefix and reads again. Nothing sleeps or
/// polls; the suite's time limit stops a test whose condition never comes.
func until(
    _ what: @autoclosure () -> String, in store: any CoordinationStore, prefix: String,
    _ condition: (StoreSnapshot) -> Bool
) async throws {
    while true {
        let snapshot = try await store.read(prefix: prefix)
        if condition(snapshot) { return }
        var changes = store.watch(prefix: prefix, after: snapshot.revision).makeAsyncIterator()
        guard try await changes.next() != nil else {
            Issue.record("the store's watch ended while waiting for \(what())")
            throw SchedulerError.cancelled
        }
    }
}

func options(_ strategy: String = "rr", max: Int = 1, ttl: Duration) -> ScheduleOptions {
    var options = ScheduleOptions(strategy: strategy)
    options.maxCount = max
    options.sessionTTL = ttl
    return options
}

/// The next host set of `results`. A lost lease fails the test: the in-memory backend's leases
/// lapse only when a test moves its clock, and a test that means to lose one reads the results
/// itself; other in-band errors are thrown as they come.
func next(_ results: inout ScheduleResults.AsyncIterator) async throws -> [String]? {
    do {
        return try await results.next()
    } catch .leaseLost {
        Issue.record("the participant lost its session lease")
        throw SchedulerError.leaseLost
    }
}

extension ScheduleHandle {
    /// Returns once this participant has learnt `hosts`, without reading its results (a test
    /// may read them afterwards). Fails the test if the participant reported a lost lease that
    /// nobody has read, unless the test provokes that (`allowingLeaseLoss`).
    func waitFor(_ hosts: [String], allowingLeaseLoss: Bool = false) async throws {
        let seen = await participant.results.observe { seen in
            seen.latest == hosts || (!allowingLeaseLoss && seen.unreadErrors.contains(.leaseLost))
        }
        guard let seen else {
            Issue.record("\(hostname)'s results ended before it saw \(hosts)")
            throw SchedulerError.cancelled
        }
        if !allowingLeaseLoss, seen.unreadErrors.contains(.leaseLost) {
            Issue.record("\(hostname) lost its session lease while waiting for \(hosts)")
            throw SchedulerError.leaseLost
        }
    }
}

extension CoordinationStore {
    func value(_ key: String) async throws -> StoredValue? {
        try await read(prefix: key).values.first { $0.key == key }
    }
}
