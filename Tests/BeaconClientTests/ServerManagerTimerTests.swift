import BeaconClient
import BeaconCore
import Testing

/// `run()` on a manual clock: when the rebalance timer fires, and how resetting it moves it.
/// After every advance the test waits for the loop to park on its next timer before looking.
@Suite struct ServerManagerTimerTests {
    /// One server for `FauxCluster`'s 16 384 nodes: after the first 120 s, Consul's exact 256 s.
    static let cycle: Duration = .seconds(256)

    /// A manager holding one server whose `run()` is parked on its first timer.
    struct Running {
        let clock = ManualClock()
        let pinger = FauxPinger()
        let manager: ServerManager
        let task: Task<Void, Never>

        init() async {
            manager = BeaconClientTests.manager(pinger, clock: clock)
            manager.add(server("s1"))
            task = Task { [manager] in await manager.run() }
            await clock.waitForSleepers(1)
        }
    }

    @Test func runRebalancesWhenTheTimerIsDueAndSetsTheNextOne() async throws {
        let running = await Running()
        let clock = running.clock
        try clock.advance(by: RebalanceDelay.minimum - .nanoseconds(1))
        await clock.waitForSleepers(1)
        #expect(running.pinger.pingCount == 0)
        try clock.advance(by: .nanoseconds(1))
        await clock.waitForSleepers(1)
        #expect(running.pinger.pingCount == 1)
        #expect(clock.nextDeadline == .zero.advanced(by: RebalanceDelay.minimum + Self.cycle))
        try clock.advance(by: Self.cycle)
        await clock.waitForSleepers(1)
        #expect(running.pinger.pingCount == 2)
        running.task.cancel()
        await running.task.value
        #expect(clock.sleeperCount == 0)
    }

    @Test func resettingTheTimerPushesTheRebalanceBack() async throws {
        let running = await Running()
        let clock = running.clock
        try clock.advance(by: .seconds(100))
        running.manager.resetRebalanceTimer()
        // The first deadline (120 s) passes; the timer now reads 220 s.
        try clock.advance(by: .seconds(20))
        await clock.waitForSleepers(1)
        #expect(running.pinger.pingCount == 0)
        try clock.advance(by: .seconds(100))
        await clock.waitForSleepers(1)
        #expect(running.pinger.pingCount == 1)
        #expect(clock.nextDeadline == .zero.advanced(by: .seconds(220) + Self.cycle))
        running.task.cancel()
        await running.task.value
    }
}
