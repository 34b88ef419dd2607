import BeaconCore
import BeaconPrimitives
import Testing

@testable import BeaconCoordination
@testable import BeaconScheduler

/// A store that only refreshes leases: it records which lease each refresh was for and when, and
/// never answers for the leases told to hang (as a call across a partition would not).
private final class RecordingKeepAlive: KeepAliveOnlyStore {
    let clock: ManualClock
    let hanging: Set<LeaseID>
    let refreshes = PosixMutex<[(lease: LeaseID, at: BeaconInstant)]>([])
    /// Hanging calls that ended because their task was cancelled.
    let cancelled = PosixMutex(0)

    init(clock: ManualClock, hanging: Set<LeaseID> = []) {
        self.clock = clock
        self.hanging = hanging
    }

    func keepAlive(_ lease: LeaseID) async throws(CoordinationError) -> Bool {
        refreshes.withLock { $0.append((lease, clock.now)) }
        if hanging.contains(lease) {
            // Real time, cancelled when the keeper lets go of the call: it must still be in
            // flight when the virtual deadline comes, whatever the machine's speed.
            do {
                try await Task.sleep(for: .seconds(86_400))
            } catch {
                cancelled.withLock { $0 += 1 }
                throw .failure("cancelled")
            }
        }
        return true
    }
}

/// One ``LeaseKeeper`` task refreshes many leases, each on its own schedule, in virtual time.
@Suite(.timeLimit(.minutes(1))) struct LeaseKeeperTests {
    private static func at(_ milliseconds: Int64) -> BeaconInstant {
        BeaconInstant.zero.advanced(by: .milliseconds(milliseconds))
    }

    /// Moves the clock to each instant the keeper sleeps until, up to `end`, waiting after each
    /// until the keeper has reported every refresh the store answered (an answer comes back from
    /// a task of its own, and is handled before the keeper sleeps again).
    private static func run(
        until end: BeaconInstant, on clock: ManualClock, store: RecordingKeepAlive, reports: PosixMutex<[LeaseID]>
    ) async throws {
        while true {
            try await parked(clock)
            guard let next = clock.nextDeadline, next <= end else { return }
            let before = reports.withLock { $0.count }
            try clock.advance(to: next)
            try await eventually {
                let reported = reports.withLock { $0.count }
                return reported > before && reported == store.refreshes.withLock { $0.count }
            }
        }
    }

    /// Waits until the keeper's one task is parked on the clock, and nothing else is.
    private static func parked(_ clock: ManualClock) async throws {
        await clock.waitForSleepers(1)
        #expect(clock.sleeperCount == 1)
    }

    private static func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<2000 where !condition() { try await Task.sleep(for: .milliseconds(5)) }
        try #require(condition())
    }

    @Test func oneTaskRefreshesEveryLeaseOnAThirdOfItsOwnTTL() async throws {
        let clock = ManualClock()
        let store = RecordingKeepAlive(clock: clock)
        let keeper = LeaseKeeper(store: store, clock: clock)
        let reports = PosixMutex<[LeaseID]>([])
        let leases = [3, 6, 9].map { seconds in
            let granted = GrantedLease(id: LeaseID(Int64(seconds)), ttl: .seconds(seconds))
            return KeptLease(granted, keeper: keeper) { refresh in
                if case .renewed = refresh { reports.withLock { $0.append(granted.id) } }
            }
        }
        #expect(keeper.count == 3)
        try await Self.run(until: Self.at(6_000), on: clock, store: store, reports: reports)
        // Sent from tasks of their own, so in no set order within an instant.
        let refreshes = store.refreshes.withLock { refreshes in
            refreshes.sorted { ($0.at, $0.lease.rawValue) < ($1.at, $1.lease.rawValue) }
                .map { "\($0.lease.rawValue)@\($0.at.nanoseconds / 1_000_000)" }
        }
        // Each lease every third of its TTL from the last answer: 3 s every second, 6 s every
        // two, 9 s every three; one task, parked once between instants.
        #expect(
            refreshes == [
                "3@1000", "3@2000", "6@2000", "3@3000", "9@3000", "3@4000", "6@4000", "3@5000", "3@6000",
                "6@6000", "9@6000",
            ])
        #expect(leases.allSatisfy { !$0.isExpired })
        for lease in leases { lease.stop() }
    }

    @Test func aHangingRefreshHoldsUpNoOtherLeaseAndEndsOnlyItsOwnAtItsDeadline() async throws {
        let clock = ManualClock()
        let stuck = GrantedLease(id: LeaseID(1), ttl: .seconds(3))
        let healthy = GrantedLease(id: LeaseID(2), ttl: .seconds(3))
        let store = RecordingKeepAlive(clock: clock, hanging: [stuck.id])
        let keeper = LeaseKeeper(store: store, clock: clock)
        let reports = PosixMutex<[LeaseID]>([])
        let expiries = PosixMutex<[(LeaseID, BeaconInstant)]>([])
        let kept = [stuck, healthy].map { granted in
            let lease = KeptLease(granted, keeper: keeper) { _ in reports.withLock { $0.append(granted.id) } }
            lease.onExpired { expiries.withLock { $0.append((granted.id, clock.now)) } }
            return lease
        }
        // 1 s: both refreshes go out; only the healthy one's is answered.
        try await Self.parked(clock)
        try clock.advance(to: Self.at(1_000))
        try await Self.eventually { reports.withLock { $0 } == [healthy.id] }
        // 2 s and 3 s: the healthy lease refreshes on; at 3 s the stuck one's deadline passes
        // with its call still in flight, and it alone expires.
        for instant in [Self.at(2_000), Self.at(3_000)] {
            try await Self.parked(clock)
            #expect(clock.nextDeadline == instant)
            try clock.advance(to: instant)
            let expected = instant == Self.at(2_000) ? 2 : 3
            try await Self.eventually { reports.withLock { $0.count } == expected }
        }
        #expect(expiries.withLock { $0.map(\.0) } == [stuck.id])
        #expect(expiries.withLock { $0.map(\.1) } == [Self.at(3_000)])
        #expect(kept[0].isExpired && !kept[1].isExpired)
        #expect(keeper.count == 1)
        #expect(store.refreshes.withLock { $0.filter { $0.lease == stuck.id }.count } == 1)
        // The expired lease's call, still in flight, is cancelled rather than left to hang.
        try await Self.eventually { store.cancelled.withLock { $0 } == 1 }
        kept[1].stop()
    }

    @Test func theTaskEndsWithTheLastLeaseAndAnotherStartsWithTheNext() async throws {
        let clock = ManualClock()
        let store = RecordingKeepAlive(clock: clock)
        let keeper = LeaseKeeper(store: store, clock: clock)
        let first = KeptLease(GrantedLease(id: LeaseID(1), ttl: .seconds(3)), keeper: keeper)
        let second = KeptLease(GrantedLease(id: LeaseID(2), ttl: .seconds(30)), keeper: keeper)
        try await Self.parked(clock)
        #expect(clock.nextDeadline == Self.at(1_000))
        first.stop()
        // The keeper is not woken for that; at 1 s it finds nothing due and sleeps until the
        // second lease's first refresh.
        try clock.advance(to: Self.at(1_000))
        try await Self.eventually { clock.sleeperCount == 1 && clock.nextDeadline == Self.at(10_000) }
        second.stop()
        try await Self.eventually { clock.sleeperCount == 0 }
        #expect(keeper.count == 0)
        // Nothing was refreshed, and moving the clock refreshes nothing.
        try clock.advance(to: Self.at(60_000))
        #expect(store.refreshes.withLock { $0.isEmpty })

        let third = KeptLease(GrantedLease(id: LeaseID(3), ttl: .seconds(3)), keeper: keeper)
        try await Self.parked(clock)
        #expect(clock.nextDeadline == Self.at(61_000))
        third.stop()
    }
}

/// What holds a scheduler alive: its participants while they run, nothing once they are shut down.
@Suite(.timeLimit(.minutes(1))) struct SchedulerLifetimeTests {
    /// A lease kept for reuse outlives its participant; dropping the scheduler without `close()`
    /// must still let it lapse, not leave it refreshed forever by a scheduler kept alive through
    /// the participant its expiry handler names.
    @Test func aSchedulerDroppedWithALeaseKeptForReuseIsFreedAndTheLeaseLapses() async throws {
        let clock = ManualClock()
        let store = InMemoryCoordinationStore(clock: clock)
        weak var dropped: Scheduler?
        do {
            let scheduler = Scheduler(store: store, clock: clock, random: SplitMix64(seed: 3))
            dropped = scheduler
            var reuse = options(ttl: .seconds(3))
            reuse.reuseLease = true
            let handle = try await scheduler.schedule(path: "/sched/dropped", hostname: "h1", options: reuse)
            try await handle.waitFor(["h1"])
            await handle.shutdown()
        }
        for _ in 0..<2000 where dropped != nil { try await Task.sleep(for: .milliseconds(5)) }
        #expect(dropped == nil)
        // Nobody refreshes the lease now: its keys go at its deadline.
        try clock.advance(by: .seconds(4))
        try await until("the exchange key to lapse", in: store, prefix: "/sched/dropped/exchange/") {
            $0.values.isEmpty
        }
    }
}
