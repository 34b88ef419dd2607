import BeaconCoordination
import Testing

#if Etcd
import BeaconCoordinationEtcd
import EtcdTestSupport
#endif

/// The coordination stores the dispatcher's records are tested on: the same suite runs on the
/// in-memory store and, with the `Etcd` trait, on an etcd the test starts on loopback.
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
            let server = try await EtcdTestServer()
            let store = try EtcdCoordinationStore(endpoints: [server.clientURL])
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
