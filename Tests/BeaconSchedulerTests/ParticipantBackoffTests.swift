import BeaconCore
import Synchronization
import Testing

@testable import BeaconCoordination
@testable import BeaconScheduler

/// The embedded store, whose first `failing` range reads fail as an unreachable etcd's would.
private final class FailingReads: CoordinationStore {
    private let base: InMemoryCoordinationStore
    private let failuresLeft: Atomic<Int>

    init(_ base: InMemoryCoordinationStore, failing: Int) {
        self.base = base
        failuresLeft = Atomic(failing)
    }

    func grantLease(ttl: Duration) async throws(CoordinationError) -> GrantedLease {
        try await base.grantLease(ttl: ttl)
    }
    func keepAlive(_ lease: LeaseID) async throws(CoordinationError) -> Bool { try await base.keepAlive(lease) }
    func revoke(_ lease: LeaseID) async throws(CoordinationError) { try await base.revoke(lease) }

    func read(prefix: String) async throws(CoordinationError) -> StoreSnapshot {
        if failuresLeft.subtract(1, ordering: .relaxed).newValue >= 0 { throw .failure("unreachable") }
        return try await base.read(prefix: prefix)
    }

    func transaction(
        if conditions: [StoreCondition], then success: [StoreOperation], else failure: [StoreOperation]
    ) async throws(CoordinationError) -> TransactionOutcome {
        try await base.transaction(if: conditions, then: success, else: failure)
    }

    func watch(prefix: String, after revision: Int64) -> AsyncThrowingStream<[StoreChange], any Error> {
        base.watch(prefix: prefix, after: revision)
    }
}

@Suite(.timeLimit(.minutes(1))) struct ParticipantBackoffTests {
    /// A group that cannot be read is read again on the scheduler's clock with the shared
    /// back-off: 50 ms doubling, each delay drawn from the scheduler's seeded random source.
    @Test func aFailingStoreIsRetriedWithADoublingBackoffInVirtualTime() async throws {
        let clock = ManualClock()
        let store = FailingReads(InMemoryCoordinationStore(clock: clock), failing: 3)
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
}
