import BeaconCore
import BeaconPrimitives
import Synchronization
import Testing

/// The loops of the dispatcher, the agent and the coordination store sleep in a wakeup: on a
/// manual clock a parked loop must mean an idle one, so a wait may end only at its deadline or
/// at a signal, and nothing of a finished wait may end the next one.
@Suite(.timeLimit(.minutes(1))) struct WakeupTests {
    @Test func aWaitEndsAtItsDeadlineAndNotBefore() async throws {
        let clock = ManualClock()
        let wakeup = Wakeup()
        let woke = Atomic<Bool>(false)
        let waiting = Task {
            await wakeup.wait(until: clock.now.advanced(by: .seconds(10)), on: clock)
            woke.store(true, ordering: .releasing)
        }
        await clock.waitForSleepers(1)
        try clock.advance(by: .seconds(9))
        // Nothing came due, so the timer is still parked and the wait still waits.
        #expect(clock.sleeperCount == 1)
        let wokeEarly = woke.load(ordering: .acquiring)
        #expect(!wokeEarly)
        try clock.advance(by: .seconds(1))
        await waiting.value
        let wokeAtDeadline = woke.load(ordering: .acquiring)
        #expect(wokeAtDeadline)
        #expect(clock.sleeperCount == 0)
    }

    @Test func aSignalBeforeTheWaitEndsItAtOnceWithoutATimer() async {
        let clock = ManualClock()
        let wakeup = Wakeup()
        wakeup.signal()
        await wakeup.wait(until: clock.now.advanced(by: .seconds(10)), on: clock)
        #expect(clock.sleeperCount == 0)
        // The signal was used up: the next wait parks its timer.
        #expect(await nextWaitParks(wakeup))
    }

    @Test func aSignalTakesTheWaitsTimerOffTheClockAtOnce() async {
        let clock = ManualClock()
        let wakeup = Wakeup()
        let waiting = await parkedWait(wakeup, on: clock)
        wakeup.signal()
        // The timer's cancellation removed it synchronously, whether or not the waiter had parked.
        #expect(clock.sleeperCount == 0)
        await waiting.value
    }

    /// The race a stale timer lost: its sleep had returned when a signal woke its wait. A clock
    /// whose sleep signals the wakeup and then returns normally plays it deterministically.
    @Test func aTimerThatFiresAfterASignalWokeItsWaitDoesNotEndTheNextWait() async {
        let wakeup = Wakeup()
        let racing = SignallingClock { wakeup.signal() }
        await wakeup.wait(until: racing.now, on: racing)
        #expect(await nextWaitParks(wakeup))
    }

    @Test func aCancelledWaitReturnsAndLeavesNoTimer() async {
        let clock = ManualClock()
        let waiting = await parkedWait(Wakeup(), on: clock)
        waiting.cancel()
        await waiting.value
        #expect(clock.sleeperCount == 0)
    }

    /// A wait of ten virtual seconds, returned once its timer sleeps on `clock`.
    private func parkedWait(_ wakeup: Wakeup, on clock: ManualClock) async -> Task<Void, Never> {
        let waiting = Task { await wakeup.wait(until: clock.now.advanced(by: .seconds(10)), on: clock) }
        await clock.waitForSleepers(1)
        return waiting
    }

    private enum NextWait { case parked, returned }

    /// Whether a wait on a fresh manual clock parks its timer (true) or returns at once because a
    /// signal was left behind (false). Either outcome ends the race, so neither case can hang.
    private func nextWaitParks(_ wakeup: Wakeup) async -> Bool {
        let clock = ManualClock()
        let waiting = Task { await wakeup.wait(until: clock.now.advanced(by: .seconds(10)), on: clock) }
        return await withTaskGroup(of: NextWait.self) { group in
            group.addTask {
                await waiting.value
                return .returned
            }
            group.addTask {
                await clock.waitForSleepers(1)
                return .parked
            }
            let first = await group.next()
            group.cancelAll()
            wakeup.signal()  // ends a parked wait, so the group can finish
            return first == .parked
        }
    }
}

/// A clock whose every sleep calls `onSleep` and then returns as if its deadline had come.
private struct SignallingClock: Clock {
    let onSleep: @Sendable () -> Void

    var now: BeaconInstant { .zero }
    var minimumResolution: Duration { .zero }

    func sleep(until deadline: BeaconInstant, tolerance: Duration?) async throws {
        onSleep()
    }
}
