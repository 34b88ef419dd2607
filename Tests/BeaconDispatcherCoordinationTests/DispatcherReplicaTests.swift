import BeaconCoordination
import BeaconDispatcher
import Testing

@testable import BeaconDispatcherCoordination

/// The replica's rules for changes it may see twice: a watch that was replaced can still deliver
/// a batch the new one already did.
@Suite struct DispatcherReplicaTests {
    let keys = DispatcherStoreKeys(prefix: "/d/")

    func put(_ task: String, at revision: Int64) -> StoreChange {
        .put(
            StoredValue(
                key: keys.key(.task(task)), value: DispatcherRecordCodec.encode(DispatchedTask(id: task, nodeID: nil)),
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
}
