import BeaconCore
import Synchronization
import Testing

@testable import BeaconCoordination
@testable import BeaconScheduler

/// A store that only refreshes leases, and answers each refresh from a switch the test flips:
/// reachable (the lease is alive) or unreachable (the call fails, as a partitioned etcd's would).
private final class SwitchedKeepAlive: KeepAliveOnlyStore {
    let reachable = Atomic(true)
    let clock: ManualClock
    /// The instant each refresh was sent at.
    let refreshes: AsyncStream<BeaconInstant>
    private let refreshed: AsyncStream<BeaconInstant>.Continuation

    init(clock: ManualClock) {
        self.clock = clock
        (refreshes, refreshed) = AsyncStream.makeStream()
    }

    /// When set, a refresh never answers, as a call to an etcd across a partition waits out its
    /// timeouts; it ends when the lease cancels it.
    let hangs = Atomic(false)

    func keepAlive(_ lease: LeaseID) async throws(CoordinationError) -> Bool {
        let alive = reachable.load(ordering: .relaxed)
        refreshed.yield(clock.now)
        if hangs.load(ordering: .relaxed) {
            do {
                // Real time, cancelled when the lease stops: the call must still be in flight
                // when the virtual deadline comes, whatever the machine's speed.
                try await Task.sleep(for: .seconds(86_400))
            } catch {
                throw .failure("cancelled")
            }
        }
        guard alive else { throw .failure("unreachable") }
        return true
    }
}

@Suite(.timeLimit(.minutes(1))) struct KeptLeaseTests {
    static let ttl = Duration.seconds(3)
    static let unreachable = CoordinationError.failure("unreachable")

    /// A lease on `store`, the refreshes its keeper handled and the instants it expired at.
    /// The refreshes end when the lease expires, so a test waiting for one more fails at once.
    private static func keptLease(
        on store: SwitchedKeepAlive, clock: ManualClock
    ) -> (KeptLease, handled: AsyncStream<KeptLease.Refresh>, expiries: AsyncStream<BeaconInstant>) {
        let (handled, handle) = AsyncStream.makeStream(of: KeptLease.Refresh.self)
        let (expiries, expired) = AsyncStream.makeStream(of: BeaconInstant.self)
        let lease = KeptLease(GrantedLease(id: LeaseID(7), ttl: ttl), store: store, clock: clock) { handle.yield($0) }
        lease.onExpired {
            expired.yield(clock.now)
            handle.finish()
        }
        return (lease, handled, expiries)
    }

    /// Advances the clock to each refresh the lease asks for up to `end`, waiting after each until
    /// the keeper has handled its answer (it reports that before it sleeps again, so the next
    /// deadline it sleeps for is the one the answer led to), and returns the refreshes handled.
    static func refresh(
        until end: Duration, from start: BeaconInstant, on clock: ManualClock,
        _ handled: inout AsyncStream<KeptLease.Refresh>.Iterator
    ) async throws -> [KeptLease.Refresh] {
        var refreshes: [KeptLease.Refresh] = []
        while true {
            await clock.waitForSleepers(1)
            let next = try #require(clock.nextDeadline)
            guard next <= start.advanced(by: end) else { return refreshes }
            try clock.advance(to: next)
            refreshes.append(try #require(await handled.next()))
        }
    }

    /// Keep-alives that fail for a whole TTL end the lease at that deadline, not a refresh
    /// before it: failed refreshes are retried at half the interval, and the failure whose retry
    /// would fall on the deadline reports no retry.
    @Test func refreshesFailingForAWholeTTLExpireTheLeaseAtItsDeadline() async throws {
        let clock = ManualClock()
        let start = clock.now
        let store = SwitchedKeepAlive(clock: clock)
        store.reachable.store(false, ordering: .relaxed)
        let (lease, refreshes, expiries) = Self.keptLease(on: store, clock: clock)
        var handled = refreshes.makeAsyncIterator()

        let failed = try await Self.refresh(until: .milliseconds(2_999), from: start, on: clock, &handled)
        let at = { (milliseconds: Int) in start.advanced(by: .milliseconds(milliseconds)) }
        #expect(
            failed == [
                .failed(sent: at(1_000), error: Self.unreachable, retry: at(1_500)),
                .failed(sent: at(1_500), error: Self.unreachable, retry: at(2_000)),
                .failed(sent: at(2_000), error: Self.unreachable, retry: at(2_500)),
                .failed(sent: at(2_500), error: Self.unreachable, retry: nil),
            ])
        await clock.waitForSleepers(1)
        #expect(!lease.isExpired)

        #expect(clock.nextDeadline == start.advanced(by: Self.ttl))
        try clock.advance(to: start.advanced(by: Self.ttl))
        var expiry = expiries.makeAsyncIterator()
        #expect(await expiry.next() == start.advanced(by: Self.ttl))
        #expect(lease.isExpired)
        lease.stop()
    }

    /// A refresh that succeeds after failures moves the deadline to a TTL after it was sent, so
    /// the lease outlives its first deadline.
    @Test func aRefreshThatSucceedsAfterFailuresMovesTheDeadline() async throws {
        let clock = ManualClock()
        let start = clock.now
        let store = SwitchedKeepAlive(clock: clock)
        let (lease, refreshes, expiries) = Self.keptLease(on: store, clock: clock)
        var handled = refreshes.makeAsyncIterator()
        let at = { (milliseconds: Int) in start.advanced(by: .milliseconds(milliseconds)) }

        store.reachable.store(false, ordering: .relaxed)
        let failed = try await Self.refresh(until: .seconds(2), from: start, on: clock, &handled)
        #expect(
            failed == [
                .failed(sent: at(1_000), error: Self.unreachable, retry: at(1_500)),
                .failed(sent: at(1_500), error: Self.unreachable, retry: at(2_000)),
                .failed(sent: at(2_000), error: Self.unreachable, retry: at(2_500)),
            ])
        store.reachable.store(true, ordering: .relaxed)
        let renewed = try await Self.refresh(until: .milliseconds(2_500), from: start, on: clock, &handled)
        #expect(renewed == [.renewed(sent: at(2_500), deadline: at(5_500))])
        // Failures from 3.5 s on (a third of the TTL after the renewal) do not end the lease
        // before its new deadline.
        store.reachable.store(false, ordering: .relaxed)
        let failedAgain = try await Self.refresh(until: .milliseconds(5_499), from: start, on: clock, &handled)
        #expect(
            failedAgain == [
                .failed(sent: at(3_500), error: Self.unreachable, retry: at(4_000)),
                .failed(sent: at(4_000), error: Self.unreachable, retry: at(4_500)),
                .failed(sent: at(4_500), error: Self.unreachable, retry: at(5_000)),
                .failed(sent: at(5_000), error: Self.unreachable, retry: nil),
            ])
        await clock.waitForSleepers(1)
        #expect(!lease.isExpired)

        try clock.advance(to: start.advanced(by: .milliseconds(5_500)))
        var expiry = expiries.makeAsyncIterator()
        #expect(await expiry.next() == start.advanced(by: .milliseconds(5_500)))
        lease.stop()
    }

    /// A refresh that never answers does not hold the lease past its deadline: the lease ends at
    /// 3 s while the call sent at 1 s is still in flight.
    @Test func aRefreshThatHangsDoesNotHoldTheLeasePastItsDeadline() async throws {
        let clock = ManualClock()
        let start = clock.now
        let store = SwitchedKeepAlive(clock: clock)
        store.hangs.store(true, ordering: .relaxed)
        var sent = store.refreshes.makeAsyncIterator()
        let (lease, _, expiries) = Self.keptLease(on: store, clock: clock)

        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == start.advanced(by: .seconds(1)))
        try clock.advance(by: .seconds(1))
        #expect(await sent.next() == start.advanced(by: .seconds(1)))
        // In flight, the keeper sleeps only until the deadline: no second refresh is sent.
        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == start.advanced(by: Self.ttl))
        #expect(!lease.isExpired)

        try clock.advance(to: start.advanced(by: Self.ttl))
        var expiry = expiries.makeAsyncIterator()
        #expect(await expiry.next() == start.advanced(by: Self.ttl))
        lease.stop()
    }
}
