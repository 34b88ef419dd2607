#if Etcd
import BeaconCoordination
import BeaconCoordinationEtcd
import BeaconScheduler
import EtcdTestSupport

extension EtcdTestServer: ControllableServer {
    /// The scheduler suite's fixture on a fresh etcd of its own.
    static func fixture() async throws -> StoreFixture {
        let server = try await EtcdTestServer()
        let store = try EtcdCoordinationStore(endpoints: [server.clientURL])
        // etcd's shortest TTL is 2 s; a third more keeps a machine busy with other suites from
        // starving a refresher past the TTL, which the tests count as a failure.
        return StoreFixture(
            store: store, ttl: .seconds(3), clock: nil,
            stop: {
                await store.shutdown()
                server.stop()
            },
            server: server)
    }
}
#endif
