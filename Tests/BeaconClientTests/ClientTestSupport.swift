import BeaconClient
import BeaconCore
import Synchronization

/// Consul's `fauxConnPool`: pings fail with probability `failFraction`, and always for `failName`.
final class FauxPinger: Pinger, Sendable {
    let failFraction: Double
    let failName: String?
    private let random: Mutex<SplitMix64>
    private let pings = Atomic<Int>(0)

    init(failFraction: Double = 0, failName: String? = nil, seed: UInt64 = 1) {
        self.failFraction = failFraction
        self.failName = failName
        random = Mutex(SplitMix64(seed: seed))
    }

    var pingCount: Int { pings.load(ordering: .relaxed) }

    func ping(_ server: ManagedServer) async -> Bool {
        pings.add(1, ordering: .relaxed)
        if server.name == failName { return false }
        let draw = random.withLock { Double.random(in: 0..<1, using: &$0) }
        return draw >= failFraction
    }
}

/// Consul's `fauxSerf`: 16 384 nodes.
struct FauxCluster: ClusterInfo {
    var nodeCount = 16_384
}

func server(_ name: String, weight: Double = 1) -> ManagedServer {
    try! ManagedServer(name: name, address: "10.0.0.1:8300", weight: weight)
}

/// A manager over a `FauxCluster`, its timer on `clock` (a fresh manual clock unless given).
func manager(
    _ pinger: any Pinger = FauxPinger(), local: String? = nil, seed: UInt64 = 7, clock: ManualClock = ManualClock()
) -> ServerManager {
    ServerManager(
        localServerName: local, pinger: pinger, cluster: FauxCluster(), clock: clock, random: SplitMix64(seed: seed))
}
