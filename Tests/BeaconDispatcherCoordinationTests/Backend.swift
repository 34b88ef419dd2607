import BeaconCoordination
import Testing

#if Etcd
import BeaconCoordinationEtcd
import EtcdTestSupport
#endif

/// The coordination stores the dispatcher's records are tested on: the same suite runs on the
/// in-memory store and, with the `Etcd` trait, on a 3-member etcd the test starts on loopback.
enum Backend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case memory
    #if Etcd
    case etcd
    #endif

    var testDescription: String { rawValue }

    /// A fresh store, and how to stop it (and its server) when the test ends.
    func open() async throws -> (store: any CoordinationStore, stop: @Sendable () async -> Void) {
        switch self {
        case .memory:
            return (InMemoryCoordinationStore(), {})
        #if Etcd
        case .etcd:
            // Three members, as a production cluster has: a write is acknowledged once a majority
            // holds it, and the watch comes from whichever member the client reached.
            let server = try await EtcdTestServer(members: 3)
            let store = try EtcdCoordinationStore(endpoints: server.clientURLs)
            return (
                store,
                {
                    await store.shutdown()
                    server.stop()
                }
            )
        #endif
        }
    }
}
