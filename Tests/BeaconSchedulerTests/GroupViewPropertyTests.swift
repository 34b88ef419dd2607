import PropertyBased
import Testing

@testable import BeaconCoordination
@testable import BeaconScheduler

/// The view keeps its hosts, leader and decision as changes arrive, instead of scanning the group
/// at every step: on random runs of puts and deletes (exchange entries, election candidates, the
/// decision, keys of a nested group and of other groups), the view that applied them one batch
/// at a time holds what a view freshly read from the same keys does.
@Suite struct GroupViewPropertyTests {
    private static let keys = [
        "/g/exchange/a", "/g/exchange/b", "/g/exchange/c", "/g/exchange/é", "/g/election/1f", "/g/election/2e",
        "/g/election/3d", "/g/scheduled", "/g/strategy-state", "/g/exchange/x/nested", "/g2/exchange/a",
        "/g/election/not-hex",
    ]
    private static let values = ["weight=1.0", "weight=2.5", "TODO", "weight=-1", "a,b", "b,a,a", ""]

    @Test func aViewKeptByChangesMatchesOneReadAfresh() async {
        let operation = Gen.int(in: 0...(Self.keys.count * Self.values.count * 2 - 1))
        await propertyCheck(count: 300, input: operation.array(of: 1...60)) { operations in
            let path = try! GroupPath("/g")
            var store: [String: StoredValue] = [:]
            var kept = GroupView(path: path)
            kept.reset(to: StoreSnapshot(values: [], revision: 0))
            var revision: Int64 = 0
            var batch: [StoreChange] = []
            for code in operations {
                revision += 1
                let key = Self.keys[code % Self.keys.count]
                let isDelete = (code / Self.keys.count) % 2 == 1
                let value = Self.values[code / (Self.keys.count * 2) % Self.values.count]
                if isDelete {
                    guard store.removeValue(forKey: key) != nil else { continue }
                    batch.append(.delete(key: key, revision: revision))
                } else {
                    let created = store[key]?.createRevision ?? revision
                    let stored = StoredValue(
                        key: key, value: value, createRevision: created, modRevision: revision, lease: nil)
                    store[key] = stored
                    batch.append(.put(stored))
                }
                // Batches of one to three changes, as a watch delivers them.
                if code % 3 == 0 {
                    kept.apply(batch.filter { $0.key.hasPrefix(path.prefix) })
                    batch = []
                }
            }
            kept.apply(batch.filter { $0.key.hasPrefix(path.prefix) })
            var fresh = GroupView(path: path)
            fresh.reset(
                to: StoreSnapshot(values: store.values.filter { $0.key.hasPrefix(path.prefix) }, revision: revision))
            #expect(kept.hosts == fresh.hosts)
            #expect(kept.leader == fresh.leader)
            #expect(kept.scheduledHosts == fresh.scheduledHosts)
            #expect(kept.values == fresh.values)
        }
    }
}
