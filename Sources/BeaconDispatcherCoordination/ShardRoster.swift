package import BeaconCoordination
package import BeaconDispatcher

/// The managers of a sharded dispatcher deployment and the table they share, as one manager
/// reads them from the coordination store, under one root:
///
/// ```
/// <root>managers/<manager id>   one live manager: its address, bound to its lease
/// <root>shards                  the shard table: its managers and the owner of each slot
/// ```
///
/// A pure value: a snapshot and the watch's changes go in, the table to act on comes out.
/// Every manager computes the same table from the same revision: the stored table moved on to
/// the live managers with `ShardTable.following(_:)`, newcomers in the order they joined
/// (their keys' create revisions). The stored table only anchors that step: whichever manager
/// sees the two differ writes the result back (``tableWrite``) under a compare on the table
/// key's revision. Managers at the same revision would write the same table; one whose watch
/// lags (it saw a join but not yet a leave) may store a table reached in another order, which
/// the others then move on from: they agree again at the next revision, at the cost of some
/// nodes moving twice.
package struct ShardRoster: Sendable {
    /// The root the keys live under; ends with `/`.
    package let root: String
    private var members: [String: Member] = [:]
    private var stored: (table: ShardTable?, modRevision: Int64)?
    /// The store revision the roster reflects.
    package private(set) var revision: Int64
    /// Keys under the root that hold nothing the roster can read (a table that does not
    /// decode is replaced by the next write).
    package private(set) var unreadableKeys: Set<String> = []

    private struct Member: Sendable {
        var manager: WeightedManager
        var createRevision: Int64
        var lease: LeaseID?
    }

    private struct MemberRecord: Codable {
        var address: String
    }

    private struct TableRecord: Codable {
        struct Manager: Codable {
            var id: String
            var address: String
        }
        var managers: [Manager]
        var slots: [Int]
    }

    /// The roster as `snapshot` (a read of `root`) shows it.
    package init(root: String, snapshot: StoreSnapshot) {
        self.root = root
        revision = snapshot.revision
        for value in snapshot.values { put(value) }
    }

    /// The key a manager's entry lives under.
    package func memberKey(_ id: String) -> String {
        Self.memberKey(root: root, id: id)
    }

    /// The key manager `id`'s entry lives under in a roster at `root`.
    package static func memberKey(root: String, id: String) -> String {
        root + "managers/" + DispatcherStoreKeys.escape(id)
    }

    /// The value of a manager's entry.
    package static func memberValue(_ manager: WeightedManager) -> String {
        DispatcherRecordCodec.encode(MemberRecord(address: manager.address))
    }

    /// The key of the shared table.
    package var tableKey: String { root + "shards" }

    /// Applies a watch's changes, in order.
    package mutating func apply(_ changes: [StoreChange]) {
        for change in changes {
            switch change {
            case .put(let value): put(value)
            case .delete(let key, _):
                members.removeValue(forKey: key)
                unreadableKeys.remove(key)
                if key == tableKey { stored = nil }
            }
            revision = max(revision, change.revision)
        }
    }

    private mutating func put(_ value: StoredValue) {
        unreadableKeys.remove(value.key)
        if value.key == tableKey {
            let table = DispatcherRecordCodec.decode(TableRecord.self, value.value).flatMap { record in
                try? ShardTable(
                    managers: record.managers.map { WeightedManager(nodeID: $0.id, address: $0.address) },
                    slotOwners: record.slots)
            }
            if table == nil { unreadableKeys.insert(value.key) }
            stored = (table, value.modRevision)
            return
        }
        let prefix = root + "managers/"
        guard let rest = DispatcherStoreKeys.rest(of: value.key, after: prefix),
            let id = DispatcherStoreKeys.unescape(rest), !id.isEmpty,
            let record = DispatcherRecordCodec.decode(MemberRecord.self, value.value)
        else {
            members.removeValue(forKey: value.key)
            unreadableKeys.insert(value.key)
            return
        }
        members[value.key] = Member(
            manager: WeightedManager(nodeID: id, address: record.address), createRevision: value.createRevision,
            lease: value.lease)
    }

    /// The live managers in the order they joined.
    package var liveManagers: [WeightedManager] {
        members.values.sorted { ($0.createRevision, $0.manager.nodeID) < ($1.createRevision, $1.manager.nodeID) }
            .map(\.manager)
    }

    /// Whether manager `id`'s entry is in the store, bound to `lease`.
    package func holdsEntry(of id: String, lease: LeaseID) -> Bool {
        members[memberKey(id)]?.lease == lease
    }

    /// The table to act on at ``revision``: the stored one (or none) moved on to the live
    /// managers.
    package var table: ShardTable {
        let base = stored?.table ?? ShardTable.none
        // The live managers come from distinct keys, so their ids are distinct and non-empty:
        // `following` has nothing to refuse.
        return (try? base.following(liveManagers)) ?? base
    }

    /// The conditional write that stores ``table`` when the stored one differs; nil when they
    /// agree.
    package var tableWrite: (condition: StoreCondition, operation: StoreOperation)? {
        let table = table
        guard stored?.table != table else { return nil }
        let record = TableRecord(
            managers: table.managers.map { TableRecord.Manager(id: $0.nodeID, address: $0.address) },
            slots: table.slotOwners)
        return (
            .modRevision(key: tableKey, equals: stored?.modRevision ?? 0),
            .put(key: tableKey, value: DispatcherRecordCodec.encode(record), lease: nil)
        )
    }
}
