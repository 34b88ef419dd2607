import BeaconCore
import Testing

/// The one `Backoff` every retry loop shares, with the agent's reconnect range (SwarmKit's 100 ms
/// doubling to 8 s), on a seeded random source and a manual clock.
@Suite struct BackoffTests {
    @Test func backoffDoublesToItsCeilingAndStartsOverAfterASuccess() throws {
        var backoff = try Backoff()
        var random = SplitMix64(seed: 3)
        let expected: [Duration] = [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1_600),
            .milliseconds(3_200), .milliseconds(6_400), .seconds(8), .seconds(8), .seconds(8),
        ]
        for ceiling in expected {
            let delay = backoff.nextDelay(using: &random)
            #expect(delay <= ceiling && delay >= ceiling / 2)
        }
        backoff.reset()
        #expect(backoff.nextDelay(using: &random) <= .milliseconds(100))
        #expect(throws: BackoffError.self) { _ = try Backoff(initial: .zero) }
        #expect(throws: BackoffError.self) { _ = try Backoff(initial: .seconds(10), maximum: .seconds(1)) }
    }

    /// Sessions that open and fail at once keep the back-off growing; one that held for the
    /// back-off's maximum starts it over.
    @Test func onlyASuccessThatHeldStartsTheBackoffOver() throws {
        var backoff = try Backoff(initial: .milliseconds(100), maximum: .seconds(1))
        var random = SplitMix64(seed: 5)
        for _ in 0..<4 {
            _ = backoff.nextDelay(using: &random)
            backoff.reset(afterHolding: .milliseconds(999))
        }
        #expect(backoff.nextDelay(using: &random) >= .milliseconds(500))
        backoff.reset(afterHolding: .seconds(1))
        #expect(backoff.nextDelay(using: &random) <= .milliseconds(100))
    }

    @Test func theSameSeedSleepsTheSameDelaysOnTheClock() async throws {
        var first = try Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))
        var firstRandom = SplitMix64(seed: 11)
        let delays = (0..<5).map { _ in first.nextDelay(using: &firstRandom) }

        let clock = ManualClock()
        let sleeping = Task {
            var backoff = try Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))
            var random = SplitMix64(seed: 11)
            for _ in delays { try await backoff.sleep(on: clock, using: &random) }
        }
        var deadline = BeaconInstant.zero
        for delay in delays {
            deadline = deadline.advanced(by: delay)
            await clock.waitForSleepers(1)
            #expect(clock.nextDeadline == deadline)
            try clock.advance(to: deadline)
        }
        try await sleeping.value
    }
}
