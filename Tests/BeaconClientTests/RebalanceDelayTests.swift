import BeaconClient
import Testing

/// Consul's `TestRebalanceDelayer`: exact intervals once the cluster is large enough, otherwise
/// 2 minutes plus up to 1 minute of jitter.
@Suite struct RebalanceDelayTests {
    static let exact: [(servers: Int, nodes: Int, interval: Duration)] = [
        (1, 11_521, .seconds(180) + .microseconds(15_625)),
        (1, 16_384, .seconds(256)),
        (1, 65_535, .seconds(1_023) + .nanoseconds(984_375_000)),
        (1, 1_000_000, .seconds(15_625)),
        (2, 23_041, .seconds(180) + .nanoseconds(7_812_500)),
        (2, 65_535, .seconds(511) + .nanoseconds(992_187_500)),
        (2, 1_000_000, .seconds(7_812) + .milliseconds(500)),
        (3, 34_561, .seconds(180) + .nanoseconds(5_208_333)),
        (3, 65_535, .seconds(341) + .nanoseconds(328_125_000)),
        (3, 1_000_000, .seconds(5_208) + .nanoseconds(333_333_333)),
        (5, 65_535, .seconds(204) + .nanoseconds(796_875_000)),
        (5, 1_000_000, .seconds(3_125)),
        (7, 131_070, .seconds(292) + .nanoseconds(566_964_285)),
        (11, 1_000_000, .seconds(1_420) + .nanoseconds(454_545_454)),
        (19, 1_000_000, .seconds(822) + .nanoseconds(368_421_052)),
    ]

    @Test func largeClustersGetConsulsExactIntervals() {
        for row in Self.exact {
            for jitter in [Duration.zero, .seconds(30), .seconds(59)] {
                #expect(
                    RebalanceDelay.interval(servers: row.servers, nodes: row.nodes, jitter: jitter) == row.interval,
                    "\(row.servers) servers, \(row.nodes) nodes")
            }
        }
    }

    @Test func smallClustersAndNoServersGetTwoMinutesPlusJitter() {
        // Also the extremes a caller may pass: the servers' combined rate once overflowed.
        for (servers, nodes) in [(1, 7_000), (0, 1_000_000), (3, 0), (1, 1), (.max, .max), (.max / 32, 1), (-1, 5)] {
            #expect(RebalanceDelay.interval(servers: servers, nodes: nodes, jitter: .zero) == .seconds(120))
            #expect(RebalanceDelay.interval(servers: servers, nodes: nodes, jitter: .seconds(45)) == .seconds(165))
        }
    }

    /// Up to 11 520 nodes per server the scaled part is at most 180 s: the result lies in
    /// [120 s, 180 s], whatever the jitter.
    @Test func upToTheThresholdTheIntervalStaysWithinTwoToThreeMinutes() {
        for jitter in [Duration.zero, .seconds(30), .seconds(59)] {
            let interval = RebalanceDelay.interval(servers: 1, nodes: 11_520, jitter: jitter)
            #expect(interval >= .seconds(120) && interval <= .seconds(180))
        }
    }

    @Test func theTimerFollowsTheClusterSize() {
        let m = ServerManager(pinger: FauxPinger(), cluster: FauxCluster(nodeCount: 1_000_000))
        for i in 0..<3 { m.add(server("s\(i)")) }
        #expect(m.refreshRebalanceTimer() == .seconds(5_208) + .nanoseconds(333_333_333))
        let small = ServerManager(pinger: FauxPinger(), cluster: FauxCluster(nodeCount: 10))
        let interval = small.refreshRebalanceTimer()
        #expect(interval >= .seconds(120) && interval < .seconds(180))
    }
}
