#if Etcd
import BeaconCoordination
import BeaconCoordinationEtcd
import BeaconCore
import BeaconDispatcher
import EtcdTestSupport
import Testing

/// Three sharded managers on a real 3-member etcd (3.4, started by the test on loopback), in
/// real time: a manager cut off from etcd loses its nodes to the others without a DOWN and
/// writes nothing after its lease, and etcd losing its leader member costs no live node a DOWN
/// and no reported status.
@Suite(.timeLimit(.minutes(3))) struct ShardedDispatcherEtcdTests {
    typealias Deployment = ShardedDeployment<MonotonicClock>

    /// Runs `body` with a deployment over `cluster`, then shuts the deployment and the etcd client
    /// its managers share down, whether `body` (or making the deployment) threw or not: an
    /// etcd client left running traps when it is released.
    static func withDeployment(
        nodes: Int, on cluster: EtcdTestServer, leaseTTL: Duration = .seconds(4),
        _ body: (Deployment) async throws -> Void
    ) async throws {
        let etcd = try EtcdCoordinationStore(endpoints: cluster.clientURLs, timeout: .seconds(2))
        do {
            let deployment = try await Deployment(
                nodes: nodes, on: etcd, clock: MonotonicClock(), leaseTTL: leaseTTL
            ) { step in try await Task.sleep(for: step) }
            do {
                try await body(deployment)
            } catch {
                await deployment.shutDown()
                throw error
            }
            await deployment.shutDown()
        } catch {
            await etcd.shutdown()
            throw error
        }
        await etcd.shutdown()
    }

    /// Waits, in real time, until every node holds a session with its owner (or a minute passed).
    static func settle(_ deployment: Deployment) async throws {
        for _ in 0..<120 where !deployment.settled { try await deployment.run(for: .milliseconds(500)) }
        #expect(deployment.settled)
    }

    @Test func aManagerCutOffFromEtcdLosesItsNodesToTheOthersWithoutADown() async throws {
        let cluster = try await EtcdTestServer(members: 3)
        defer { cluster.stop() }
        try await Self.withDeployment(nodes: 45, on: cluster) { deployment in
            try await Self.settle(deployment)
            let cut = deployment.managers[2]
            let table = try #require(cut.sharded.table)
            let itsNodes = deployment.nodes.filter { table.owner(of: $0)?.nodeID == cut.id }
            #expect(!itsNodes.isEmpty)

            // Cut off from etcd and from its agents: its lease runs out, its writes fail.
            cut.partition.cut()
            cut.reachable.withLock { $0 = false }
            try await Self.settle(deployment)
            let survivors = try #require(deployment.managers[0].sharded.table)
            #expect(!survivors.managers.contains { $0.nodeID == cut.id })
            #expect(cut.events.withLock { $0 }.contains(.leaseLost))

            // Back: it joins again under a new lease and takes its share once more.
            cut.partition.heal()
            cut.reachable.withLock { $0 = true }
            for _ in 0..<120 {
                try await deployment.run(for: .milliseconds(500))
                if deployment.settled, deployment.managers[0].sharded.table?.managers.count == 3 { break }
            }
            #expect(deployment.settled)
            #expect(try await deployment.recordsBehindTheSessions(within: .seconds(5)) == [])
            #expect(deployment.downs.withLock { $0 }.isEmpty, "DOWN written for live nodes")
        }
    }

    /// The fencing test on etcd: a manager whose calls to etcd hang (a paused process) decides
    /// its nodes are DOWN; by the time those writes reach etcd its lease has lapsed and the
    /// others hold the nodes, alive. The compare on its entry refuses them.
    @Test func aPausedManagersWritesAreRefusedOnceItsLeaseLapsed() async throws {
        let cluster = try await EtcdTestServer(members: 3)
        defer { cluster.stop() }
        // A lease long enough that the DOWN verdicts (3 s) come before the manager gives up on it.
        try await Self.withDeployment(nodes: 45, on: cluster, leaseTTL: .seconds(6)) { deployment in
            try await Self.settle(deployment)
            // Its etcd calls hang and its agents cannot reach it: 3 s later its wheel marks its nodes
            // DOWN, and the batch carrying that hangs with the rest; 6 s in, its lease lapses.
            let (paused, pausedNodes) = try deployment.pause(2)
            #expect(!pausedNodes.isEmpty)
            try await deployment.run(for: .seconds(3.5))
            #expect(pausedNodes.allSatisfy { paused.dispatcher.state(of: $0) == .down })
            try await Self.settle(deployment)

            // It resumes: the held batch goes out, is fenced, and the manager joins again.
            try await deployment.resume(paused, rounds: 120)
            #expect(deployment.settled)
            #expect(paused.events.withLock { $0 }.contains(.leaseLost))
            #expect(try await deployment.recordsBehindTheSessions(within: .seconds(5)) == [])
            #expect(deployment.downs.withLock { $0 }.isEmpty, "DOWN written for live nodes")
        }
    }

    @Test func etcdLosingItsLeaderMemberCostsNoLiveNodeADown() async throws {
        let cluster = try await EtcdTestServer(members: 3)
        defer { cluster.stop() }
        try await Self.withDeployment(nodes: 45, on: cluster) { deployment in
            try await Self.settle(deployment)
            #expect(try await deployment.recordsBehindTheSessions(within: .seconds(5)) == [])
            let leader = try #require(await cluster.leader())
            cluster.kill(member: leader)
            // The agents keep beating through the election and after it.
            try await deployment.run(for: .seconds(8))
            try await Self.settle(deployment)
            #expect(try await deployment.recordsBehindTheSessions(within: .seconds(5)) == [])
            #expect(deployment.downs.withLock { $0 }.isEmpty, "DOWN written for live nodes")
        }
    }
}
#endif
