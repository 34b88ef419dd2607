import BeaconCore
import Synchronization
import Testing

/// The manual clock is what every layer's virtual-time tests stand on: a sleeper must wake exactly
/// when the clock reaches its deadline, never before, and a cancelled sleeper must leave no trace.
@Suite(.timeLimit(.minutes(1))) struct ManualClockTests {
    @Test func aSleeperWakesWhenTheClockReachesItsDeadlineAndNotBefore() async throws {
        let clock = ManualClock(start: BeaconInstant(nanoseconds: 1_000))
        let woke = Atomic<Bool>(false)
        let sleeper = Task {
            try await clock.sleep(until: BeaconInstant(nanoseconds: 5_000))
            woke.store(true, ordering: .releasing)
        }
        await clock.waitForSleepers(1)
        try clock.advance(to: BeaconInstant(nanoseconds: 4_999))
        // Still parked: the advance did not resume it (it would have left the list synchronously).
        #expect(clock.sleeperCount == 1)
        let wokeEarly = woke.load(ordering: .acquiring)
        #expect(!wokeEarly)
        try clock.advance(by: .nanoseconds(1))
        #expect(clock.sleeperCount == 0)
        try await sleeper.value
        let wokeAtDeadline = woke.load(ordering: .acquiring)
        #expect(wokeAtDeadline)
    }

    @Test func sleepersWakeEarliestDeadlineFirst() async throws {
        let clock = ManualClock()
        let order = WakeOrder()
        var sleepers: [Task<Void, any Error>] = []
        for seconds in [3, 1, 2] {
            sleepers.append(
                Task {
                    try await clock.sleep(for: .seconds(seconds))
                    order.seconds.withLock { $0.append(seconds) }
                })
            await clock.waitForSleepers(sleepers.count)
        }
        // Each advance reaches one more deadline; awaiting that sleeper before the next advance
        // keeps the recorded order the clock's (sleepers resumed together run concurrently).
        for (index, seconds) in [(1, 1), (2, 2), (0, 3)] {
            #expect(clock.nextDeadline == BeaconInstant.zero.advanced(by: .seconds(seconds)))
            try clock.advance(to: BeaconInstant.zero.advanced(by: .seconds(seconds)))
            try await sleepers[index].value
        }
        #expect(order.seconds.withLock { $0 } == [1, 2, 3])
        #expect(clock.sleeperCount == 0)
    }

    @Test func aDeadlineAlreadyPassedReturnsAtOnce() async throws {
        let clock = ManualClock(start: BeaconInstant(nanoseconds: 10))
        try await clock.sleep(until: BeaconInstant(nanoseconds: 10))
        try await clock.sleep(until: BeaconInstant(nanoseconds: 3))
        #expect(clock.sleeperCount == 0)
    }

    @Test func cancellingASleeperThrowsAndRemovesIt() async throws {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(60)) }
        await clock.waitForSleepers(1)
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
        #expect(clock.nextDeadline == nil)
    }

    @Test func aTaskCancelledBeforeItSleepsThrowsWithoutParking() async throws {
        let clock = ManualClock()
        let sleeper = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await clock.sleep(for: .seconds(1))
        }
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test func theClockRefusesToGoBackwards() throws {
        let clock = ManualClock(start: BeaconInstant(nanoseconds: 100))
        #expect(throws: HeartbeatError.self) { try clock.advance(to: BeaconInstant(nanoseconds: 99)) }
        #expect(throws: HeartbeatError.self) { try clock.advance(by: .nanoseconds(-1)) }
        #expect(clock.now == BeaconInstant(nanoseconds: 100))
    }

    @Test func taskSleepAcceptsTheClock() async throws {
        let clock = ManualClock()
        let sleeper = Task { try await Task.sleep(until: clock.now.advanced(by: .milliseconds(5)), clock: clock) }
        await clock.waitForSleepers(1)
        try clock.advance(by: .milliseconds(5))
        try await sleeper.value
    }

    @Test func theMonotonicClockNeverWakesEarly() async throws {
        let clock = MonotonicClock()
        let deadline = clock.now.advanced(by: .milliseconds(2))
        try await clock.sleep(until: deadline)
        #expect(clock.now >= deadline)
    }
}

private final class WakeOrder: Sendable {
    let seconds = Mutex<[Int]>([])
}
