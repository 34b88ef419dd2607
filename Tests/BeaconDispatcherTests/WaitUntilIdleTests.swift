import BeaconCore
import BeaconDispatcher
import Testing

/// `waitUntilIdle(besides:)` on counts a caller should not pass: a negative one counts as none,
/// and one too large to add waits, cancellable, instead of trapping on the overflow.
@Suite(.timeLimit(.minutes(1))) struct WaitUntilIdleTests {
    @Test func aNegativeCountIsNoneAndAHugeOneWaitsUntilCancelled() async throws {
        let clock = ManualClock()
        let dispatcher = try Dispatcher(clock: clock, store: InMemoryDispatcherStore())
        let running = Task { try await dispatcher.run() }
        await dispatcher.waitUntilIdle(besides: -3)
        #expect(clock.sleeperCount == 2)
        let forever = Task { await dispatcher.waitUntilIdle(besides: .max) }
        forever.cancel()
        await forever.value
        dispatcher.stop()
        try await running.value
    }
}
