import BeaconCoordination
import BeaconCore
import BeaconDispatcher
import PropertyBased
import Testing

@testable import BeaconDispatcherCoordination

func nodeID(_ name: String) -> NodeID {
    try! NodeID(name)
}

@Suite(.timeLimit(.minutes(1))) struct CoordinatedDispatcherStoreTests {
    /// Records under `/d/` holding node `n1`, on `backend` seen through an `ObservedStore`, for
    /// the tests that race another writer against a commit; and what stops the backend.
    static func racedStore(_ backend: Backend) async throws -> (
        store: CoordinatedDispatcherStore, observed: ObservedStore, node: NodeID, stop: @Sendable () async -> Void
    ) {
        let (coordination, stop) = try await backend.open()
        let observed = ObservedStore(coordination)
        let store = try await CoordinatedDispatcherStore.open(on: observed, prefix: "/d/")
        let node = nodeID("n1")
        try await store.createNode(node)
        return (store, observed, node, stop)
    }

    @Test(arguments: Backend.allCases) func everyRecordRoundTripsToAnotherManager(_ backend: Backend) async throws {
        let (coordination, stop) = try await backend.open()
        let writer = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/d/")
        // Ids with the key layout's separator and escape character stay one record each.
        let odd = nodeID("rack/1%2F")
        #expect(
            try await writer.createNode(odd, description: NodeDescription(hostname: "h1", attributes: ["zone": "b"])))
        #expect(try await !writer.createNode(odd))
        let task = DispatchedTask(
            id: "svc/1", nodeID: odd, desiredState: .running,
            status: TaskStatus(state: .assigned, message: "placed", error: "none"), spec: [0, 1, 255], secrets: ["s"],
            configs: ["s"])
        let stored = try await writer.putTask(task)
        #expect(stored.version > 0)
        try await writer.putDependency(TaskDependency(kind: .secret, id: "s", data: [9, 8]))
        try await writer.putDependency(TaskDependency(kind: .config, id: "s", data: [7]))
        let settings = ClusterSettings(
            networkBootstrapKeys: [EncryptionKey(subsystem: "net", algorithm: "aes", key: [1, 2], lamportTime: 3)],
            rootCA: [4, 5])
        try await writer.updateCluster(settings)
        // A write returns once the writer's own reads show it.
        #expect(writer.task("svc/1") == stored)
        #expect(writer.clusterSettings() == settings)

        let reader = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/d/")
        let node = try #require(reader.node(odd))
        #expect(node.description == NodeDescription(hostname: "h1", attributes: ["zone": "b"]))
        #expect(node.status.state == .unknown)
        #expect(node == writer.node(odd))
        #expect(reader.task("svc/1") == stored)
        #expect(reader.tasks(on: odd).map(\.id) == ["svc/1"])
        #expect(reader.dependency(.secret, id: "s")?.data == [9, 8])
        #expect(reader.dependency(.config, id: "s")?.data == [7])
        #expect(reader.clusterSettings() == settings)
        #expect(reader.unreadableKeys.isEmpty)
        let elsewhere = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/e/")
        #expect(elsewhere.allNodes().isEmpty)

        let events = EventLog(reader)
        // The watch delivers in order: once the reader sees the task go, it has seen the secret go.
        #expect(try await writer.deleteDependency(.secret, id: "s"))
        #expect(try await writer.deleteTask("svc/1"))
        #expect(try await !writer.deleteTask("svc/1"))
        let deleted = await events.next { if case .taskDeleted = $0 { true } else { false } }
        #expect(deleted == .taskDeleted(stored))
        #expect(reader.tasks(on: odd).isEmpty)
        #expect(reader.dependency(.secret, id: "s") == nil)
        await writer.close()
        await reader.close()
        await elsewhere.close()
        await stop()
    }

    /// An id that starts with a combining mark joins the `/` before it into one character; the
    /// key layout reads scalars, so its record is still the node's (it was read as nobody's, and
    /// the node, created, could never be found). Escaping works on scalars too: an id whose `/`
    /// carries a combining mark adds no level to the path.
    @Test(arguments: Backend.allCases) func idsThatStartWithACombiningMarkAreStillTheirRecords(_ backend: Backend)
        async throws
    {
        let (coordination, stop) = try await backend.open()
        let writer = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/d/")
        let marked = [nodeID("\u{301}n"), nodeID("a/\u{301}b"), nodeID("%\u{301}25")]
        for node in marked { #expect(try await writer.createNode(node)) }
        let reader = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/d/")
        for node in marked {
            #expect(writer.node(node) != nil, "\(node)")
            #expect(reader.node(node) != nil, "\(node)")
        }
        #expect(reader.unreadableKeys.isEmpty)
        #expect(try await coordination.read(prefix: "/d/nodes/").values.count == marked.count)
        await writer.close()
        await reader.close()
        await stop()
    }

    /// Repeated ids are created once (etcd refuses a transaction that puts one key twice), and a
    /// key holding something that is not a node is not written over.
    @Test(arguments: Backend.allCases)
    func creatingNodesSkipsRepeatsAndKeysThatHoldSomethingElse(_ backend: Backend) async throws {
        let (coordination, stop) = try await backend.open()
        _ = try await coordination.transaction(
            if: [], then: [.put(key: "/d/nodes/taken", value: "not a node", lease: nil)], else: [])
        let store = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/d/")
        #expect(store.unreadableKeys == ["/d/nodes/taken"])
        #expect(try await store.createNodes([nodeID("a"), nodeID("a"), nodeID("taken"), nodeID("b")]) == 2)
        #expect(Set(store.allNodes().map(\.id)) == [nodeID("a"), nodeID("b")])
        #expect(store.unreadableKeys == ["/d/nodes/taken"])
        await store.close()
        await stop()
    }

    @Test func badArgumentsAreRefused() async throws {
        let coordination = InMemoryCoordinationStore()
        for prefix in ["", "/", "d/", "/d"] {
            await #expect(throws: DispatcherError.self) {
                try await CoordinatedDispatcherStore.open(on: coordination, prefix: prefix)
            }
        }
        await #expect(throws: DispatcherError.invalidArgument("a transaction must hold at least 2 operations, not 1")) {
            try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/d/", operationsPerTransaction: 1)
        }
        let store = try await CoordinatedDispatcherStore.open(
            on: coordination, prefix: "/d/", operationsPerTransaction: 3)
        #expect(throws: DispatcherError.self) {
            try store.fence(with: Array(repeating: .value(key: "/owner", equals: "me"), count: 3))
        }
        try store.fence(with: Array(repeating: .value(key: "/owner", equals: "me"), count: 2))
        await store.close()
        await #expect(throws: DispatcherError.self) { try await store.putTask(DispatchedTask(id: "t", nodeID: nil)) }
    }

    /// etcd refuses a transaction of more than `--max-txn-ops` operations (128 by default): a
    /// large flush goes out in several, each within the limit with its fence.
    @Test(arguments: Backend.allCases) func aBatchLargerThanATransactionIsSplitWithinTheLimit(_ backend: Backend)
        async throws
    {
        let (coordination, stop) = try await backend.open()
        let observed = ObservedStore(coordination)
        _ = try await observed.base.transaction(if: [], then: [.put(key: "/owner", value: "m1", lease: nil)], else: [])
        let store = try await CoordinatedDispatcherStore.open(on: observed, prefix: "/d/", operationsPerTransaction: 8)
        let nodes = (0..<50).map { nodeID("n\($0)") }
        #expect(try await store.createNodes(nodes) == 50)
        #expect(try await store.createNodes(nodes + [nodeID("n50")]) == 1)
        try store.fence(with: [.value(key: "/owner", equals: "m1")])
        let before = observed.transactions.count
        try await store.commit(
            nodes.map { .nodeStatus($0, NodeStatus(state: .ready, address: "10.0.0.1"), description: nil) })

        let commits = observed.transactions.dropFirst(before)
        #expect(commits.count == 8)  // 50 puts, 7 beside the fence in each
        #expect(commits.allSatisfy { $0.succeeded && $0.conditions.count <= 8 && $0.operations.count <= 8 })
        #expect(commits.allSatisfy { $0.conditions.first == .value(key: "/owner", equals: "m1") })
        #expect(observed.transactions.allSatisfy { $0.conditions.count <= 8 && $0.operations.count <= 8 })
        let reader = try await CoordinatedDispatcherStore.open(on: observed.base, prefix: "/d/")
        #expect(reader.allNodes().count == 51)
        #expect(nodes.allSatisfy { reader.node($0)?.status == NodeStatus(state: .ready, address: "10.0.0.1") })
        // Writing what is already stored writes nothing: the same chunks, compares only.
        let revision = store.revision
        try await store.commit(
            nodes.map { .nodeStatus($0, NodeStatus(state: .ready, address: "10.0.0.1"), description: nil) })
        let checks = observed.transactions.dropFirst(before + 8)
        #expect(checks.count == 8 && checks.allSatisfy { $0.succeeded && $0.operations.isEmpty })
        #expect(store.revision == revision)
        await store.close()
        await reader.close()
        await stop()
    }

    @Test(arguments: Backend.allCases) func aStoreWhoseFenceNoLongerHoldsCannotWrite(_ backend: Backend) async throws {
        let (coordination, stop) = try await backend.open()
        _ = try await coordination.transaction(if: [], then: [.put(key: "/owner", value: "m1", lease: nil)], else: [])
        let store = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/d/")
        let node = nodeID("n1")
        try await store.createNode(node)
        try store.fence(with: [.value(key: "/owner", equals: "m1")])
        try await store.commit([.nodeStatus(node, NodeStatus(state: .ready), description: nil)])
        #expect(store.node(node)?.status.state == .ready)

        // Another manager took over: the old owner's DOWN must not land.
        _ = try await coordination.transaction(if: [], then: [.put(key: "/owner", value: "m2", lease: nil)], else: [])
        await #expect(
            throws: DispatcherError.storeFailure(
                "fenced: this dispatcher no longer owns the store, so its writes are refused")
        ) {
            try await store.commit([.nodeStatus(node, NodeStatus(state: .down), description: nil)])
        }
        let reader = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/d/")
        #expect(reader.node(node)?.status.state == .ready)
        await store.close()
        await reader.close()
        await stop()
    }

    /// The orchestrator changes a task's spec just as the dispatcher flushes its status: the
    /// flush's condition fails, the store reads again, and both changes end up stored.
    @Test(arguments: Backend.allCases) func aRacingWriteIsNeverOverwritten(_ backend: Backend) async throws {
        let (store, observed, node, stop) = try await Self.racedStore(backend)
        let task = try await store.putTask(
            DispatchedTask(id: "t1", nodeID: node, status: TaskStatus(state: .assigned), spec: [1]))
        var respecified = task
        respecified.spec = [2]
        let text = DispatcherRecordCodec.encode(respecified)
        observed.beforeNextWrite { base in
            _ = try await base.transaction(if: [], then: [.put(key: "/d/tasks/t1", value: text, lease: nil)], else: [])
        }
        try await store.commit([.taskStatus(taskID: "t1", TaskStatus(state: .running, message: "started"))])

        let stored = try #require(store.task("t1"))
        #expect(stored.spec == [2])
        #expect(stored.status == TaskStatus(state: .running, message: "started"))
        // The flush (a put conditioned on the task's revision) failed once, then went through.
        let flushes = observed.transactions.filter { transaction in
            !transaction.conditions.isEmpty
                && transaction.operations.contains { operation in
                    if case .put("/d/tasks/t1", _, _) = operation { true } else { false }
                }
        }
        #expect(flushes.map(\.succeeded) == [false, true])
        await store.close()
        await stop()
    }

    /// A write that leaves a record as the replica holds it is not sent, but its revision is
    /// still checked: another writer may have changed the record where the replica cannot see it
    /// yet, and then the write must go out after all.
    @Test(arguments: Backend.allCases) func anUnchangedRecordIsCheckedNotSkipped(_ backend: Backend) async throws {
        let (store, observed, node, stop) = try await Self.racedStore(backend)
        let ready = NodeStatus(state: .ready, address: "10.0.0.7")
        try await store.commit([.nodeStatus(node, ready, description: nil)])
        let revision = store.revision

        // Nothing changed: one transaction with the compare and no put, and no new revision.
        let before = observed.transactions.count
        try await store.commit([.nodeStatus(node, ready, description: nil)])
        #expect(observed.transactions.dropFirst(before).map(\.operations) == [[]])
        #expect(store.revision == revision)

        // Another writer marks it UNKNOWN just before: the compare fails and READY goes out.
        var unknown = try #require(store.node(node))
        unknown.status = NodeStatus(state: .unknown, message: "moved")
        let text = DispatcherRecordCodec.encode(unknown)
        observed.beforeNextWrite { base in
            _ = try await base.transaction(if: [], then: [.put(key: "/d/nodes/n1", value: text, lease: nil)], else: [])
        }
        try await store.commit([.nodeStatus(node, ready, description: nil)])
        try await store.synchronize()
        #expect(store.node(node)?.status == ready)
        await store.close()
        await stop()
    }

    /// A node status is a step from the status its writer saw: when another writer (a node's
    /// new owner) changed the status first, the older decision is dropped rather than planned
    /// again on top, while the batch's task statuses still land.
    @Test(arguments: Backend.allCases) func aNodeStatusAnotherWriterChangedFirstStands(_ backend: Backend)
        async throws
    {
        let (store, observed, node, stop) = try await Self.racedStore(backend)
        _ = try await store.putTask(DispatchedTask(id: "t1", nodeID: node, status: TaskStatus(state: .assigned)))
        var ready = try #require(store.node(node))
        ready.status = NodeStatus(state: .ready, address: "10.0.0.2")
        let text = DispatcherRecordCodec.encode(ready)
        observed.beforeNextWrite { base in
            _ = try await base.transaction(if: [], then: [.put(key: "/d/nodes/n1", value: text, lease: nil)], else: [])
        }
        try await store.commit([
            .nodeStatus(node, NodeStatus(state: .down, message: "heartbeat failure"), description: nil),
            .taskStatus(taskID: "t1", TaskStatus(state: .running)),
        ])
        try await store.synchronize()
        #expect(store.node(node)?.status == ready.status)
        #expect(store.task("t1")?.status.state == .running)
        await store.close()
        await stop()
    }

    /// Revisions tell a newer decision, not statuses: another writer (the node's new owner)
    /// wrote the node UNKNOWN and then READY again, so the record reads as this commit saw it,
    /// and the older DOWN planned again on it would bury the owner's READY.
    @Test(arguments: Backend.allCases) func aNodeRecordAnotherWriterRewroteToTheSameStatusStands(_ backend: Backend)
        async throws
    {
        let (store, observed, node, stop) = try await Self.racedStore(backend)
        try await store.setNodeStatus(node, NodeStatus(state: .ready))
        let ready = try #require(store.node(node))
        var unknown = ready
        unknown.status = NodeStatus(state: .unknown, message: "moved to its new owner")
        let texts = [unknown, ready].map(DispatcherRecordCodec.encode)
        observed.beforeNextWrite { base in
            for text in texts {
                _ = try await base.transaction(
                    if: [], then: [.put(key: "/d/nodes/n1", value: text, lease: nil)], else: [])
            }
        }
        try await store.commit([
            .nodeStatus(node, NodeStatus(state: .down, message: "heartbeat failure"), description: nil)
        ])
        try await store.synchronize()
        #expect(store.node(node)?.status == ready.status)
        await store.close()
        await stop()
    }

    /// The store's rules for the dispatcher's writes are the in-memory store's: a model check
    /// over random batches of node statuses, task statuses and orphanings.
    @Test(arguments: Backend.allCases) func writesFollowTheInMemoryStoresRules(_ backend: Backend) async throws {
        let (coordination, stop) = try await backend.open()
        let nodes = (0..<3).map { nodeID("n\($0)") }
        let taskIDs = (0..<6).map { "t\($0)" }
        let states = TaskState.allCases
        await propertyCheck(count: 40, input: Gen.int(in: 0...1_000_000).array(of: 1...40)) { codes in
            let model = InMemoryDispatcherStore()
            // A prefix of its own for each case, all on the one store.
            let store = try await CoordinatedDispatcherStore.open(
                on: coordination, prefix: "/d\(UInt64.random(in: 0 ... .max))/", operationsPerTransaction: 4)
            for node in nodes {
                model.createNode(node)
                try await store.createNode(node)
            }
            for (index, id) in taskIDs.enumerated() {
                let task = DispatchedTask(
                    id: id, nodeID: nodes[index % nodes.count], status: TaskStatus(state: .assigned))
                model.putTask(task)
                try await store.putTask(task)
            }
            var batch: [DispatcherWrite] = []
            for code in codes {
                let node = nodes[code % nodes.count]
                switch code / 7 % 4 {
                case 0:
                    let state = [NodeState.ready, .down, .disconnected, .unknown][code / 3 % 4]
                    batch.append(.nodeStatus(node, NodeStatus(state: state, message: "m\(code % 5)"), description: nil))
                case 1:
                    batch.append(.orphanTasks(node: node))
                default:
                    let state = states[code / 11 % states.count]
                    batch.append(
                        .taskStatus(
                            taskID: taskIDs[code % taskIDs.count], TaskStatus(state: state, message: "s\(code % 3)")))
                }
                if code % 5 == 0 {
                    model.apply(batch)
                    try await store.commit(batch)
                    batch = []
                }
            }
            model.apply(batch)
            try await store.commit(batch)
            for node in nodes { #expect(store.node(node)?.status == model.node(node)?.status) }
            for id in taskIDs { #expect(store.task(id)?.status == model.task(id)?.status) }
            await store.close()
        }
        await stop()
    }
}
