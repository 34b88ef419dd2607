import BeaconCoordination
import Testing

/// What both stores answer alike at the edges of their inputs, so code written against the
/// in-memory store behaves the same on etcd.
@Suite(.timeLimit(.minutes(2))) struct CoordinationStoreEdgeTests {
    /// etcd reads a start revision of 0 as "from now on"; asked for what came after a revision
    /// below every change, both stores replay every change. And etcd refuses an empty key, so
    /// the empty prefix must still read every key.
    @Test(arguments: Backend.allCases)
    func aWatchAfterANegativeRevisionReplaysEverythingAndTheEmptyPrefixReadsEveryKey(_ backend: Backend)
        async throws
    {
        try await withScheduler(backend) { fixture, _ in
            let store = fixture.store
            let written = try await store.transaction(
                if: [], then: [.put(key: "/edge/a", value: "1", lease: nil)], else: [])
            #expect(try await store.read(prefix: "").values.map(\.key).contains("/edge/a"))
            var changes = store.watch(prefix: "/edge/", after: -1).makeAsyncIterator()
            let first = try await changes.next()
            #expect(first?.first?.revision == written.revision)
        }
    }
}
