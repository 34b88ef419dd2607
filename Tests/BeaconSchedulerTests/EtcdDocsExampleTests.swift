#if Etcd
import BeaconCoordination
import BeaconScheduler
import EtcdTestSupport
import BeaconCoordinationEtcd
import Testing

/// The getting-started example of BeaconCoordinationEtcd's documentation catalog
/// (Sources/BeaconCoordinationEtcd/BeaconCoordinationEtcd.docc/GettingStarted.md), verbatim inside the
/// test body, against an etcd this test starts.
@Suite(.timeLimit(.minutes(1))) struct EtcdDocsExampleTests {
    @Test func gettingStartedExample() async throws {
        let server = try await EtcdTestServer()
        defer { server.stop() }
        let endpoints = [server.clientURL]

        let store = try EtcdCoordinationStore(endpoints: endpoints)  // etcd's client URLs, tried in order
        let scheduler = Scheduler(store: store)
        var options = ScheduleOptions(strategy: "rr")
        options.maxCount = 1
        options.sessionTTL = .seconds(3)  // etcd raises leases below 2 s to 2 s
        let handle = try await scheduler.schedule(path: "/sched/db", hostname: "db-1", options: options)
        var results = handle.results.makeAsyncIterator()
        let hosts = try await results.next()  // ["db-1"]
        await handle.shutdown()  // revokes the lease: the seat is free at once
        await scheduler.close()
        await store.shutdown()

        #expect(hosts == ["db-1"])
    }
}
#endif
