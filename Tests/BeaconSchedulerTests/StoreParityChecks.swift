import BeaconCoordination
import Testing

/// What etcd does that a layer may lean on, checked the same way on both stores: the embedded
/// store's tests run each check, and the etcd suite runs them again on a real etcd.
enum StoreParityChecks {
    static func all(on store: some CoordinationStore, under root: String) async throws {
        try await aDeleteOfAnAbsentKeyLeavesTheRevision(on: store, under: root + "absent/")
        try await aKeyEndingInASlashIsUnderItsOwnPrefix(on: store, under: root + "slash/")
        try await aWatchFromARevisionNotYetReachedSkipsTheChangesBefore(on: store, under: root + "future/")
        try await aBranchThatWritesAKeyTwiceIsRefused(on: store, under: root + "twice/")
    }

    /// etcd moves its revision only when a transaction changed something; a revision nothing
    /// reports would leave a watch from it waiting, or (on a store with no history yet) looking
    /// compacted.
    static func aDeleteOfAnAbsentKeyLeavesTheRevision(on store: some CoordinationStore, under prefix: String)
        async throws
    {
        let before = try await store.read(prefix: prefix).revision
        let outcome = try await store.transaction(if: [], then: [.delete(key: prefix + "nothing")], else: [])
        #expect(outcome.revision == before)
        #expect(try await store.read(prefix: prefix).revision == before)
        var changes = store.watch(prefix: prefix, after: before).makeAsyncIterator()
        let put = try await store.transaction(if: [], then: [.put(key: prefix + "k", value: "v", lease: nil)], else: [])
        #expect(put.revision == before + 1)
        #expect(try await changes.next()?.map(\.key) == [prefix + "k"])
    }

    static func aKeyEndingInASlashIsUnderItsOwnPrefix(on store: some CoordinationStore, under prefix: String)
        async throws
    {
        _ = try await store.transaction(
            if: [],
            then: [
                .put(key: prefix + "d/", value: "1", lease: nil), .put(key: prefix + "d/b", value: "2", lease: nil),
            ],
            else: [])
        #expect(try await store.read(prefix: prefix + "d/").values.map(\.key) == [prefix + "d/", prefix + "d/b"])
        #expect(try await store.read(prefix: prefix).values.map(\.key) == [prefix + "d/", prefix + "d/b"])
    }

    /// A watch asked to start after a revision the store has not reached yet reports only what
    /// comes after it.
    static func aWatchFromARevisionNotYetReachedSkipsTheChangesBefore(
        on store: some CoordinationStore, under prefix: String
    ) async throws {
        let now = try await store.read(prefix: prefix).revision
        var changes = store.watch(prefix: prefix, after: now + 2).makeAsyncIterator()
        for key in ["a", "b", "c"] {
            _ = try await store.transaction(if: [], then: [.put(key: prefix + key, value: "v", lease: nil)], else: [])
        }
        let first = try await changes.next()
        #expect(first?.map(\.key) == [prefix + "c"])
        #expect(first?.map(\.revision) == [now + 3])
    }

    /// etcd refuses a branch that puts a key twice, or puts and deletes it, and a put with no
    /// key; deleting a key twice is allowed. (Both stores refuse before sending, so on etcd this
    /// checks the shared rule, and that etcd takes the double delete.)
    static func aBranchThatWritesAKeyTwiceIsRefused(on store: some CoordinationStore, under prefix: String)
        async throws
    {
        let key = prefix + "k"
        let refused: [[StoreOperation]] = [
            [.put(key: key, value: "1", lease: nil), .put(key: key, value: "2", lease: nil)],
            [.delete(key: key), .put(key: key, value: "1", lease: nil)],
            [.put(key: key, value: "1", lease: nil), .delete(key: key)],
            [.put(key: "", value: "1", lease: nil)],
        ]
        for operations in refused {
            do throws(CoordinationError) {
                _ = try await store.transaction(if: [], then: [], else: operations)
                Issue.record("\(operations) was applied")
            } catch {
                guard case .invalidArgument = error else {
                    Issue.record("\(operations): \(error)")
                    continue
                }
            }
        }
        #expect(try await store.read(prefix: prefix).values.isEmpty)
        _ = try await store.transaction(
            if: [],
            then: [.put(key: key, value: "1", lease: nil), .put(key: prefix + "other", value: "2", lease: nil)],
            else: [])
        _ = try await store.transaction(if: [], then: [.delete(key: key), .delete(key: key)], else: [])
        #expect(try await store.read(prefix: prefix).values.map(\.key) == [prefix + "other"])
    }
}
