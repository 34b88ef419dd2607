import BeaconAgent
import BeaconClient
import BeaconDispatcher
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct ManagerListAdapterTests {
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

    /// A list that swaps every manager never leaves a reader with none.
    @Test func aReaderAlwaysFindsAManagerWhileTheListSwapsItsManagers() async throws {
        let m = manager()
        let adapter = ManagerListAdapter(feeding: m)
        let lists = [
            [WeightedManager(nodeID: "m1", address: "10.0.0.1:4242")],
            [WeightedManager(nodeID: "m2", address: "10.0.0.2:4242")],
        ]
        try adapter.apply(lists[0])
        let done = DoneFlag()
        let swaps = Task.detached {
            defer { done.set() }
            for round in 1...20_000 { try adapter.apply(lists[round % 2]) }
        }
        var emptyReads = 0
        var reads = 0
        while !done.isSet {
            if m.find() == nil { emptyReads += 1 }
            reads += 1
            // The swaps need a thread of the cooperative pool too, which may have no other free.
            if reads % 1_000 == 0 { await Task.yield() }
        }
        try await swaps.value
        #expect(emptyReads == 0)
        #expect(m.servers.map(\.name) == ["m1"])
    }
}

private final class DoneFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}
