import BeaconCore
import PropertyBased
import Testing

@testable import BeaconDispatcher

/// The owner has the last word on its nodes' statuses: whatever stale writes another manager
/// lands on them, at any moment — while the owner's status is queued, between the owner taking
/// a batch and committing it (where the store then drops the owner's status as overtaken, as
/// `CoordinatedDispatcherStore` does) or after — whatever batches fail, and with registrations
/// of one node overlapping across batches, once the stale writes stop the store shows every node
/// in the state the owner holds it in, within two flush intervals.
@Suite struct ShardedStatusPropertyTests {
    static let names = (0..<6).map { "node-\($0)" }
    static let manager = WeightedManager(nodeID: "m1", address: "10.0.0.1:4242")

    @Test func theStoreEndsAgreeingWithTheOwner() async {
        // Each step: what to do (the low bits) and to which node (the high ones).
        await propertyCheck(count: 200, input: Gen.int(in: 0...(1 << 16)).array(of: 1...60)) { steps in
            let failure = run(steps)
            #expect(failure == nil, "\(failure ?? "")")
        }
    }

    /// Plays `steps`; returns how the store and the owner disagree at the end, if they do.
    private func run(_ steps: [Int]) -> String? {
        var configuration = DispatcherConfiguration()
        configuration.heartbeatPeriod = .seconds(1)
        configuration.heartbeatJitter = .zero
        configuration.rateLimitPeriod = .zero
        let store = InMemoryDispatcherStore()
        let nodes = Self.names.map(nodeID)
        _ = store.createNodes(nodes)
        guard let dispatcher = try? VirtualDispatcher(configuration: configuration, store: store),
            let table = try? ShardTable(managers: [Self.manager])
        else { return "no dispatcher" }
        dispatcher.updateShard(DispatcherShard(table: table, manager: Self.manager.nodeID))
        guard (try? dispatcher.start()) != nil else { return "did not start" }
        let interval = configuration.statusBatchInterval
        var sessions: [NodeID: SessionID] = [:]
        let states: [NodeState] = [.unknown, .ready, .down]
        // A batch the owner took and has not committed yet, with the node records' versions when
        // it was taken: as `CoordinatedDispatcherStore`, the store drops a node status whose record
        // changed since then. Batches commit in order, as the dispatcher's loop commits them.
        var pending: (batch: DispatcherCore<ManualClock>.WriteBatch, versions: [NodeID: UInt64])?
        func finishPending(failing: Bool) {
            guard let (batch, versions) = pending else { return }
            pending = nil
            if !failing {
                store.apply(
                    batch.writes.filter { write in
                        guard case .nodeStatus(let id, _, _) = write else { return true }
                        return store.node(id)?.version == versions[id]
                    })
            }
            dispatcher.core.writesCommitted(batch, error: failing ? .storeFailure("the store did not answer") : nil)
            dispatcher.core.takeDeferredCalls().perform()
        }
        for step in steps {
            let node = nodes[(step >> 4) % nodes.count]
            let stale = NodeStatus(state: states[(step >> 8) % states.count], message: "from the manager before")
            switch step & 7 {
            case 0:
                // A registration, committed with the next flush.
                try? dispatcher.register(node) { result in
                    if case .success(let message) = result { sessions[node] = message.sessionID }
                }
            case 1:
                if let session = sessions[node] { _ = try? dispatcher.heartbeat(node: node, session: session) }
            case 2:
                finishPending(failing: false)
                dispatcher.advance(by: .milliseconds(10 * (step >> 8)))
            case 3:
                store.apply([.nodeStatus(node, stale, description: nil)])
            case 4:
                // The owner takes a batch, and a stale write lands before it commits.
                guard pending == nil, let batch = dispatcher.core.takeWrites(at: dispatcher.now) else { continue }
                pending = (
                    batch,
                    Dictionary(uniqueKeysWithValues: nodes.compactMap { id in store.node(id).map { (id, $0.version) } })
                )
                store.apply([.nodeStatus(node, stale, description: nil)])
            case 5:
                finishPending(failing: false)
            case 6:
                finishPending(failing: true)
            default:
                finishPending(failing: false)
                dispatcher.advance(by: interval)
            }
        }
        finishPending(failing: false)
        // The stale writes stop; two flushes later the store agrees with the owner.
        dispatcher.advance(by: interval)
        dispatcher.advance(by: interval)
        for node in nodes {
            guard let held = dispatcher.core.liveness(of: node) else { continue }
            let stored = store.node(node)?.status.state
            if stored != held {
                return "\(node): the owner holds it \(held), the store shows \(String(describing: stored))"
            }
        }
        return nil
    }
}
