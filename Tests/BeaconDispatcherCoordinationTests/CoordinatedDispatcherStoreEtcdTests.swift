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

    /// A 3-member etcd loses its leader member (SIGKILL) in the middle of a stream of writes: the
    /// store moves on to the other members, and every write it acknowledged, before or after, is
    /// in the cluster for a manager that opens it afterwards. A write in flight when the leader
    /// died may fail (it was not acknowledged); later writes go through.
    @Test func killingEtcdsLeaderMemberLosesNoAcknowledgedWrite() async throws {
        let cluster = try await EtcdTestServer(members: 3)
        defer { cluster.stop() }
        let etcd = try EtcdCoordinationStore(endpoints: cluster.clientURLs, timeout: .seconds(2))
        let writer = try await CoordinatedDispatcherStore.open(on: etcd, prefix: "/beacon/records/")
        var acknowledged: [DispatchedTask] = []
        var killed: Int?
        var killedAt = 0  // the write index at the kill
        // An election on a busy machine can fail a write before the kill too: count what was
        // acknowledged, not what was tried.
        for index in 0..<300 where killed == nil || index < killedAt + 60 {
            if killed == nil, acknowledged.count == 20 {
                killed = await cluster.leader()
                cluster.kill(member: try #require(killed))
                killedAt = index
            }
            let task = DispatchedTask(
                id: "t\(index)", nodeID: nil, status: TaskStatus(state: .running, message: "\(index)"))
            if let stored = try? await writer.putTask(task) { acknowledged.append(stored) }
        }
        #expect(killed != nil)
        #expect(acknowledged.count > 20, "no write went through after the leader member died")

        let survivors = cluster.clientURLs.enumerated().filter { $0.offset != killed }.map(\.element)
        let other = try EtcdCoordinationStore(endpoints: survivors)
        let reader = try await CoordinatedDispatcherStore.open(on: other, prefix: "/beacon/records/")
        for task in acknowledged { #expect(reader.task(task.id) == task) }
        await writer.close()
        await reader.close()
        await etcd.shutdown()
        await other.shutdown()
    }
}
#endif
