#if Etcd
import BeaconCoordination
import BeaconCoordinationEtcd
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherCoordination
import EtcdTestSupport
import Testing

/// The dispatcher's records on a real etcd (3.4, started by the test on loopback): etcd's own
/// transaction limit, its revisions and its watch, and a restart in the middle.
@Suite(.timeLimit(.minutes(2))) struct CoordinatedDispatcherStoreEtcdTests {
    /// 300 status writes in one flush: etcd refuses a transaction of more than 128 operations,
    /// so the flush must be split; another manager's store sees every one through its watch.
    @Test func aLargeFlushFitsEtcdsLimitAndReachesAnotherManager() async throws {
        let server = try await EtcdTestServer()
        defer { server.stop() }
        let etcd = try EtcdCoordinationStore(endpoints: [server.clientURL])
        let writer = try await CoordinatedDispatcherStore.open(on: etcd, prefix: "/beacon/records/")
        let reader = try await CoordinatedDispatcherStore.open(on: etcd, prefix: "/beacon/records/")
        let nodes = (0..<300).map { nodeID("node-\($0)") }
        #expect(try await writer.createNodes(nodes) == 300)
        _ = try await etcd.transaction(if: [], then: [.put(key: "/owner", value: "m1", lease: nil)], else: [])
        try writer.fence(with: [.value(key: "/owner", equals: "m1")])
        let events = EventLog(reader)
        try await writer.commit(nodes.map { .nodeStatus($0, NodeStatus(state: .ready), description: nil) })
        #expect(nodes.allSatisfy { writer.node($0)?.status.state == .ready })
        #expect(await events.node(nodes[299], becomes: .ready) != nil)
        #expect(nodes.allSatisfy { reader.node($0)?.status.state == .ready })

        // Another manager took the seat: the fenced writer's next flush is refused whole.
        _ = try await etcd.transaction(if: [], then: [.put(key: "/owner", value: "m2", lease: nil)], else: [])
        await #expect(throws: DispatcherError.self) {
            try await writer.commit(nodes.map { .nodeStatus($0, NodeStatus(state: .down), description: nil) })
        }
        try await reader.synchronize()
        #expect(nodes.allSatisfy { reader.node($0)?.status.state == .ready })
        await writer.close()
        await reader.close()
        await etcd.shutdown()
    }

    /// etcd restarts under a follower: its watch breaks, it reads again once etcd answers, and
    /// its watchers see what was written while it was cut off.
    @Test func aFollowerRecoversFromAnEtcdRestart() async throws {
        let server = try await EtcdTestServer()
        defer { server.stop() }
        let etcd = try EtcdCoordinationStore(endpoints: [server.clientURL])
        let follower = try await CoordinatedDispatcherStore.open(on: etcd, prefix: "/beacon/records/")
        let writer = try await CoordinatedDispatcherStore.open(on: etcd, prefix: "/beacon/records/")
        let events = EventLog(follower)
        let before = try await writer.putTask(DispatchedTask(id: "before", nodeID: nil))
        #expect(await events.next { $0 == .taskUpdated(before) } != nil)

        try await server.restart()
        let after = try await writer.putTask(DispatchedTask(id: "after", nodeID: nil))
        #expect(await events.next { $0 == .taskUpdated(after) } == .taskUpdated(after))
        #expect(follower.task("after") == after)
        #expect(follower.watchRestarts >= 1)
        await follower.close()
        await writer.close()
        await etcd.shutdown()
    }
}
#endif
