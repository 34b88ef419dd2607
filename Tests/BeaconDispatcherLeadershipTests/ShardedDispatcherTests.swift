import BeaconCoordination
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherCoordination
import BeaconDispatcherLeadership
import BeaconPrimitives
import Testing

/// Several managers sharing the nodes through one coordination store, on one manual clock: each
/// serves only its shard, a manager that stops answering loses its nodes to the others once its
/// lease ends, and what it decided while paused never reaches the store.
@Suite(.timeLimit(.minutes(2))) struct ShardedDispatcherTests {
    typealias Deployment = ShardedDeployment<ManualClock>

    /// Three managers on one in-memory store and one manual clock, stepped 100 ms at a time.
    static func deployment(nodes: Int, unknownGraceMultiplier: Double? = nil) async throws -> Deployment {
        let clock = ManualClock()
        return try await Deployment(
            nodes: nodes, on: InMemoryCoordinationStore(clock: clock), clock: clock,
            unknownGraceMultiplier: unknownGraceMultiplier
        ) { step in
            try clock.advance(by: step)
            try await Task.sleep(for: .milliseconds(3))
        }
    }

    /// A roster root that is not a prefix a store can hold apart from the records' (`/` took
    /// every key; a root holding the records made every record an unreadable roster key and every
    /// status batch a roster change) is refused before anything is written.
    @Test func aRosterRootNotApartFromTheRecordsIsRefused() async throws {
        let clock = ManualClock()
        let coordination = InMemoryCoordinationStore(clock: clock)
        let records = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/beacon/records/")
        let dispatcher = try Dispatcher(clock: clock, store: records)
        for root in ["/", "beacon/", "/beacon", "/beacon/", "/beacon/records/", "/beacon/records/nodes/"] {
            let sharded = ShardedDispatcher(
                dispatcher: dispatcher, records: records, store: coordination, root: root,
                manager: WeightedManager(nodeID: "m1", address: "10.0.0.1:4242"))
            do throws(DispatcherError) {
                try await sharded.run()
                Issue.record("the root \(root) was taken")
            } catch {
                guard case .invalidArgument = error else {
                    Issue.record("\(root): \(error)")
                    continue
                }
            }
        }
        #expect(try await coordination.read(prefix: "/").values.isEmpty)
        await records.close()
    }

    @Test func threeManagersSplitTheNodesAndEachServesOnlyItsShare() async throws {
        let deployment = try await Self.deployment(nodes: 90)
        for _ in 0..<100 where !deployment.settled { try await deployment.run(for: .milliseconds(500)) }
        #expect(deployment.settled)
        let table = try #require(deployment.managers[0].sharded.table)
        #expect(Set(table.managers.map(\.nodeID)) == ["m1", "m2", "m3"])
        // The table every manager acts on is the one stored beside the entries.
        let stored = try await deployment.coordination.read(prefix: "/managers/shards")
        #expect(stored.values.count == 1)
        let beatsBefore = deployment.managers.map(\.dispatcher.heartbeatCount)
        try await deployment.run(for: .seconds(3))
        for (index, manager) in deployment.managers.enumerated() {
            let held = deployment.nodes.count { table.owner(of: $0)?.nodeID == manager.id }
            #expect(manager.dispatcher.nodeCount == held)
            // Every manager takes its shard's beats, not one leader all of them.
            #expect(manager.dispatcher.heartbeatCount > beatsBefore[index])
        }
        // A node at the wrong manager is told where to go.
        let node = deployment.nodes[0]
        let owner = try #require(table.owner(of: node))
        let stranger = try #require(deployment.managers.first { $0.id != owner.nodeID })
        await #expect(throws: DispatcherError.wrongManager(node: node.rawValue, owner: owner)) {
            _ = try await stranger.dispatcher.register(nodeID: node, description: nil)
        }
        #expect(deployment.downs.withLock { $0 }.isEmpty)
        await deployment.shutDown()
    }

    /// The fencing test: a manager paused past its lease wakes up with DOWN verdicts for the
    /// nodes it held, built before the pause; by then the others hold those nodes and they are
    /// alive. Its writes are fenced on its entry, so none lands. (Without the compare on the
    /// entry, the held batch would be planned again over the newer records and mark them DOWN.)
    @Test func aManagerPausedPastItsLeaseWritesNothingAndItsNodesMoveWithoutADown() async throws {
        let deployment = try await Self.deployment(nodes: 60)
        for _ in 0..<100 where !deployment.settled { try await deployment.run(for: .milliseconds(500)) }
        #expect(deployment.settled)
        try await deployment.run(for: .seconds(2))
        // Paused: its store calls hang and its agents cannot reach it. Its wheel marks its nodes
        // DOWN 3 s in, and the batch carrying those verdicts hangs with the rest.
        let (paused, pausedNodes) = try deployment.pause(2)
        #expect(!pausedNodes.isEmpty)
        try await deployment.run(for: .seconds(4))
        #expect(pausedNodes.allSatisfy { paused.dispatcher.state(of: $0) == .down })
        // Its lease ends in the store; the others take its nodes, which register with them.
        for _ in 0..<100 where !deployment.settled { try await deployment.run(for: .milliseconds(500)) }
        #expect(deployment.settled)
        let survivors = try #require(deployment.managers[0].sharded.table)
        #expect(!survivors.managers.contains { $0.nodeID == paused.id })
        try await deployment.orchestrator.synchronize()
        for node in pausedNodes { #expect(deployment.orchestrator.node(node)?.status.state == .ready) }

        // It resumes: the held DOWN batch goes out, is fenced, and the manager joins again.
        try await deployment.resume(paused, rounds: 100)
        // Read up to date: the orchestrator's replica follows the store's watch in real time.
        try await deployment.run(for: .seconds(1))
        try await deployment.orchestrator.synchronize()
        #expect(paused.events.withLock { $0 }.contains(.leaseLost))
        #expect(deployment.managers[0].sharded.table?.managers.count == 3)
        #expect(deployment.settled)
        #expect(deployment.downs.withLock { $0 }.isEmpty, "DOWN written for live nodes")
        for node in deployment.nodes {
            #expect(deployment.orchestrator.node(node)?.status.state == .ready)
            #expect(deployment.orchestrator.task("task-\(node)")?.status.state == .running)
        }
        await deployment.shutDown()
    }

    /// A manager whose watch of the roster stalls without failing (a half-open connection) while
    /// its lease lives still learns the table from its reads of the roster, both when it gains
    /// nodes (a manager drops out) and when it loses some (the manager comes back): each time
    /// every node settles with its owner, and no live node is marked DOWN.
    @Test func aManagerWhoseRosterWatchStallsStillFollowsTheTable() async throws {
        // The stalled manager learns a change after two audits (up to 4 s of the manual clock,
        // more if its audit task is slow to run between steps on a busy machine); the nodes it
        // loses wait at their new owner for that, UNKNOWN, so their grace there is 20 s, not 6 s.
        let deployment = try await Self.deployment(nodes: 60, unknownGraceMultiplier: 20)
        for _ in 0..<100 where !deployment.settled { try await deployment.run(for: .milliseconds(500)) }
        #expect(deployment.settled)
        let stalled = deployment.managers[2]
        stalled.partition.stallWatches(of: "/managers/")
        // m1 drops out: its lease lapses, and the table moves its nodes to m2 and m3.
        let gone = deployment.managers[0]
        gone.partition.cut()
        gone.reachable.withLock { $0 = false }
        for _ in 0..<100 where !deployment.settled { try await deployment.run(for: .milliseconds(500)) }
        #expect(deployment.settled)
        let table = try #require(stalled.sharded.table)
        #expect(table.managers.map(\.nodeID).sorted() == ["m2", "m3"])
        #expect(table == deployment.managers[1].sharded.table)

        // m1 comes back and takes a share from the others, m3's included: m3 learns that it lost
        // nodes the same way, and sends their agents on.
        gone.partition.heal()
        gone.reachable.withLock { $0 = true }
        for _ in 0..<100 {
            try await deployment.run(for: .milliseconds(500))
            if deployment.settled, stalled.sharded.table?.managers.count == 3 { break }
        }
        #expect(deployment.settled)
        #expect(stalled.sharded.table == deployment.managers[0].sharded.table)
        #expect(stalled.sharded.table?.managers.count == 3)
        #expect(deployment.downs.withLock { $0 }.isEmpty, "DOWN written for live nodes")
        await deployment.shutDown()
    }
}
