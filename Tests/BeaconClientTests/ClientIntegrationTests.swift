import BeaconClient
import BeaconCore
import BeaconLifecycle
import Logging
import ServiceLifecycle
import Testing

@Suite struct ClientIntegrationTests {
    /// Under a service group the manager parks on its rebalance timer, rebalances when virtual
    /// time reaches it, and leaves nothing sleeping after a graceful shutdown.
    @Test func theManagerRunsAsAServiceAndStopsOnGracefulShutdown() async throws {
        let clock = ManualClock()
        let pinger = FauxPinger()
        let m = manager(pinger, clock: clock)
        m.add(server("s1"))
        let group = ServiceGroup(services: [LifecycleService(m)], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == .zero.advanced(by: RebalanceDelay.minimum))
        try clock.advance(by: RebalanceDelay.minimum)
        await clock.waitForSleepers(1)
        #expect(pinger.pingCount == 1)
        // One server for 16 384 nodes: Consul's exact 256 s.
        #expect(clock.nextDeadline == .zero.advanced(by: RebalanceDelay.minimum + .seconds(256)))
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(clock.sleeperCount == 0)
    }
}

/// Readers of `find` and `count` on several threads while a writer adds, removes and rotates:
/// run under ThreadSanitizer in CI.
@Suite struct ServerManagerConcurrencyTests {
    @Test func readersSeeWholeListsWhileWritersChangeThem() async {
        let m = manager()
        for i in 0..<10 { m.add(server("s\(i)")) }
        await withTaskGroup(of: Int.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    var seen = 0
                    for _ in 0..<20_000 {
                        if let front = m.find(), front.name.hasPrefix("s") { seen += 1 }
                        _ = m.count
                    }
                    return seen
                }
            }
            group.addTask {
                for round in 0..<2_000 {
                    m.add(server("extra-\(round % 5)"))
                    if let front = m.find() { m.notifyFailed(front) }
                    m.remove(named: "extra-\((round + 2) % 5)")
                }
                return 0
            }
            var total = 0
            for await seen in group { total += seen }
            #expect(total > 0)
        }
        #expect(m.count >= 10)
    }
}
