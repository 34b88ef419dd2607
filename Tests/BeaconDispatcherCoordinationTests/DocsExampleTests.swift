import BeaconCoordination
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherCoordination
import Testing

/// The catalogs' snippets, run as written.
@Suite struct DocsExampleTests {
    @Test func theCoordinationOverview() async throws {
        let store = InMemoryCoordinationStore()
        let lease = try await store.grantLease(ttl: .seconds(5))
        let outcome = try await store.transaction(
            if: [.createRevision(key: "/demo/owner", equals: 0)],  // only if nobody owns it yet
            then: [.put(key: "/demo/owner", value: "m1", lease: lease.id)],
            else: [])
        let snapshot = try await store.read(prefix: "/demo/")  // outcome.succeeded == true

        #expect(outcome.succeeded)
        #expect(snapshot.values.map(\.value) == ["m1"])
        #expect(snapshot.values.first?.lease == lease.id)
        #expect(snapshot.revision == outcome.revision)
    }

    @Test func theDispatcherStoreOverview() async throws {
        let coordination = InMemoryCoordinationStore()  // or EtcdCoordinationStore(endpoints:), trait Etcd
        let store = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/beacon/dispatcher/")
        try await store.createNode(try NodeID("node-1"))
        let dispatcher = try Dispatcher(store: store)
        // The dispatcher leads; when its process ends, the next leader opens the same prefix:
        let next = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/beacon/dispatcher/")
        let node = next.node(try NodeID("node-1"))  // still there, with its last status

        #expect(node?.status.state == .unknown)
        #expect(dispatcher.state(of: try NodeID("node-1")) == nil)
        await store.close()
        await next.close()
    }
}
