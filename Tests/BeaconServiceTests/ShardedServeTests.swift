#if GRPC && Etcd
import BeaconAgent
import BeaconCoordinationEtcd
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherCoordination
import BeaconPrimitives
import EtcdTestSupport
import Foundation
import Testing

/// Three `beacon serve --sharded` processes on a 3-member etcd, as an operator runs them, and
/// agents in this process: a manager killed with SIGKILL loses its agents to the others, no live
/// node is ever written DOWN, and every status the agents reported is in etcd.
@Suite(.timeLimit(.minutes(3))) struct ShardedServeTests {
    @Test func killingAManagerMovesItsAgentsToTheOthersWithoutADownOrALostStatus() async throws {
        let cluster = try await EtcdTestServer(members: 3)
        defer { cluster.stop() }
        let urls = cluster.clientURLs.joined(separator: ",")
        var addresses: [String] = []
        var serves: [ServeProcess] = []
        for index in 1...3 {
            let address = "127.0.0.1:\(try EtcdTestServer.freePort())"
            addresses.append(address)
            serves.append(
                try ServeProcess([
                    "--listen", address, "--name", "m\(index)", "--sharded", "--etcd", urls, "--period", "500ms",
                    "--jitter", "50ms",
                ]))
        }
        for serve in serves { #expect(try await serve.port(announcedBy: "serving the dispatcher on") != nil) }

        // An etcd client left running traps when it is released: shut it down on every path.
        let etcd = try EtcdCoordinationStore(endpoints: cluster.clientURLs, timeout: .seconds(2))
        do {
            let records = try await CoordinatedDispatcherStore.open(on: etcd, prefix: "/beacon/dispatchers-records/")
            do {
                try await Self.killAManager(of: serves, at: addresses, watchedThrough: records)
            } catch {
                await records.close()
                throw error
            }
            await records.close()
        } catch {
            await etcd.shutdown()
            throw error
        }
        await etcd.shutdown()
        for serve in serves.prefix(2) { #expect(serve.terminate() == 0) }
    }

    private static func killAManager(
        of serves: [ServeProcess], at addresses: [String], watchedThrough records: CoordinatedDispatcherStore
    ) async throws {
        // Every DOWN etcd records, from before the first agent.
        let downs = PosixMutex<[NodeID]>([])
        let watch = records.watch { event in
            if case .nodeUpdated(let node) = event, node.status.state == .down { downs.withLock { $0.append(node.id) } }
        }

        let connections = try ManagerConnections()
        let backoff = try Backoff(initial: .milliseconds(20), maximum: .seconds(1))
        let agents = try (0..<30).map { index in
            let first = index % 3
            return try NodeAgent(
                configuration: AgentConfiguration(
                    node: NodeID("node-\(index)"), managers: Array(addresses[first...] + addresses[..<first]),
                    backoff: backoff),
                connections: connections)
        }
        let running = agents.map { agent in Task { try await agent.run() } }
        // Each agent reports its task RUNNING once it holds it.
        try await eventually("every agent holds a session and its task") {
            agents.allSatisfy { $0.session != nil && $0.tasks.count == 1 }
        }
        for agent in agents {
            try agent.report(TaskStatusUpdate(taskID: agent.tasks[0].id, status: TaskStatus(state: .running)))
        }
        try await eventually("every status is in etcd") {
            agents.allSatisfy { records.task($0.tasks[0].id)?.status.state == .running }
        }

        let killed = addresses[2]
        let orphans = agents.filter { $0.managers.find()?.address == killed }
        let sessionsBefore = agents.map(\.sessionsStarted)
        serves[2].kill()
        // Its lease lapses (10 s), the others take its nodes, and its agents register with them.
        try await eventually("every agent holds a session with a live manager") {
            agents.allSatisfy { $0.session != nil && $0.managers.find()?.address != killed }
        }
        #expect(!orphans.isEmpty)
        try await records.synchronize()
        #expect(downs.withLock { $0 }.isEmpty, "DOWN written for live nodes")
        for agent in agents {
            #expect(records.node(agent.configuration.node)?.status.state == .ready)
            #expect(records.task(agent.tasks[0].id)?.status.state == .running)
        }
        // The agents of the other managers kept their sessions.
        for (index, agent) in agents.enumerated() where !orphans.contains(where: { $0 === agent }) {
            #expect(agent.sessionsStarted == sessionsBefore[index])
        }

        for task in running { task.cancel() }
        for task in running { _ = await task.result }
        await connections.close()
        watch.cancel()
    }
}
#endif
