import BeaconClient
import BeaconCore
import Testing

/// The getting-started example of BeaconClient's documentation catalog
/// (Sources/BeaconClient/BeaconClient.docc/GettingStarted.md), verbatim inside the test body.
@Suite struct ClientDocsExampleTests {
    @Test func gettingStartedExample() async throws {
        let manager = ServerManager(pinger: AlwaysAnswers(), cluster: ThreeNodes(), clock: ManualClock())
        manager.add(try ManagedServer(name: "s1", address: "10.0.0.1:8300"))
        manager.add(try ManagedServer(name: "s2", address: "10.0.0.2:8300"))
        if let server = manager.find() {  // the front server: s1
            // … call it; when the call fails:
            manager.notifyFailed(server)  // s1 moves to the end, s2 leads
        }
        let reordered = await manager.rebalance()  // what run() does on Consul's schedule
        print(reordered, manager.isOffline)  // true false: a healthy server was found
        print(manager.servers.map(\.name))  // both servers, in a shuffled order

        #expect(reordered && !manager.isOffline)
        #expect(Set(manager.servers.map(\.name)) == ["s1", "s2"])
    }
}

/// A health check that every server passes; a real one dials the server.
private struct AlwaysAnswers: Pinger {
    func ping(_ server: ManagedServer) async -> Bool { true }
}

/// The cluster's size, which scales the rebalance interval.
private struct ThreeNodes: ClusterInfo {
    var nodeCount: Int { 3 }
}
