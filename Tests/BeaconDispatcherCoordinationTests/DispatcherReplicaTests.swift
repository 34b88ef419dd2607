import BeaconCoordination
import BeaconDispatcher
import Testing

@testable import BeaconDispatcherCoordination

/// The replica's rules for changes it may see twice: a watch that was replaced can still deliver
/// a batch the new one already did.
@Suite struct DispatcherReplicaTests {
    let keys = DispatcherStoreKeys(prefix: "/d/")

    func put(_ task: String, at revision: Int64, on node: NodeID? = nil) -> StoreChange {
        .put(
            StoredValue(
                key: keys.key(.task(task)), value: DispatcherRecordCodec.encode(DispatchedTask(id: task, nodeID: node)),
                createRevision: revision, modRevision: revision, lease: nil))
    }

    @Test func aPutDeliveredAgainAfterItsKeysDeleteDoesNotBringTheKeyBack() {
        var replica = DispatcherReplica(keys: keys)
        _ = replica.apply([put("t1", at: 33)])
        _ = replica.apply([.delete(key: keys.key(.task("t1")), revision: 34)])
        #expect(replica.tasks["t1"] == nil)
        // The replaced watch, one batch behind, delivers the put again.
        #expect(replica.apply([put("t1", at: 33)]).isEmpty)
        #expect(replica.tasks["t1"] == nil)
        #expect(replica.revision == 34)
    }

    /// A transaction's changes share its revision, and all of them apply.
    @Test func everyChangeOfOneTransactionApplies() {
        var replica = DispatcherReplica(keys: keys)
        _ = replica.apply([put("t1", at: 5), put("t2", at: 5), put("t3", at: 5)])
        #expect(Set(replica.tasks.keys) == ["t1", "t2", "t3"])
    }

    /// A task written under another node is first reported deleted from the node it left, as
    /// the embedded store reports it, so that node's dispatcher takes it off the node's stream.
    @Test func aTaskThatMovesIsDeletedFromTheNodeItLeft() throws {
        var replica = DispatcherReplica(keys: keys)
        let a = try NodeID("a")
        let b = try NodeID("b")
        _ = replica.apply([put("t", at: 3, on: a)])
        let events = replica.apply([put("t", at: 4, on: b)])
        #expect(events.map(\.kind) == ["deleted t from a", "updated t on b"])
        #expect(replica.apply([put("t", at: 5)]).map(\.kind) == ["deleted t from b", "updated t on -"])
        #expect(replica.apply([put("t", at: 6)]).map(\.kind) == ["updated t on -"])
    }
}

extension StoreEvent {
    fileprivate var kind: String {
        switch self {
        case .taskUpdated(let task): "updated \(task.id) on \(task.nodeID?.rawValue ?? "-")"
        case .taskDeleted(let task): "deleted \(task.id) from \(task.nodeID?.rawValue ?? "-")"
        default: "other"
        }
    }
}
