import BeaconAgent
import BeaconClient
import BeaconDispatcher
import Testing

@Suite struct ManagerListAdapterTests {
    @Test func theAdapterFollowsTheSessionsManagerList() throws {
        let m = manager()
        let adapter = ManagerListAdapter(feeding: m)
        try adapter.apply([
            WeightedManager(nodeID: "m1", address: "10.0.0.1:4242"),
            WeightedManager(nodeID: "m2", address: "10.0.0.2:4242"),
        ])
        #expect(m.servers.map(\.name) == ["m1", "m2"] && m.find()?.weight == 10)
        try adapter.apply([
            WeightedManager(nodeID: "m2", address: "10.0.0.2:4242"),
            WeightedManager(nodeID: "m3", address: "10.0.0.3:4242", weight: 20),
        ])
        #expect(m.servers.map(\.name) == ["m2", "m3"])
        #expect(throws: ClientError.self) { try adapter.apply([WeightedManager(nodeID: "", address: "x")]) }
        #expect(m.servers.map(\.name) == ["m2", "m3"])
    }
}
