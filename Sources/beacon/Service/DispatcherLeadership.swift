#if GRPC && Etcd
import BeaconCore
import BeaconDispatcher
import BeaconScheduler
import BeaconSchedulerEtcd
import ServiceLifecycle

/// `beacon serve --etcd`: the dispatcher joins a scheduling group on etcd with one seat (mgmt's
/// scheduler, `alpha` strategy), and leads only while it holds the seat. The others answer every
/// call with Aborted ("dispatcher is stopped"), which sends agents on to their next manager.
struct DispatcherLeadership: Service {
    let dispatcher: Dispatcher<MonotonicClock>
    let endpoints: [String]
    let group: String
    let name: String

    func run() async throws {
        let store = try EtcdCoordinationStore(endpoints: endpoints)
        let scheduler = Scheduler(store: store)
        var options = ScheduleOptions(strategy: "alpha")
        options.maxCount = 1
        let handle = try await scheduler.schedule(path: group, hostname: name, options: options)
        print("joined \(group) on etcd as \(name)")
        var leading: Task<Void, any Error>?
        try await withGracefulShutdownHandler {
            var results = handle.results.makeAsyncIterator()
            while let chosen = try await results.next() {
                let leads = chosen.contains(name)
                print("dispatcher group chose \(chosen.joined(separator: ", ")): \(leads ? "leading" : "following")")
                if leads, leading == nil {
                    leading = Task { try await dispatcher.run() }
                } else if !leads, let running = leading {
                    dispatcher.stop()
                    _ = await running.result
                    leading = nil
                }
            }
        } onGracefulShutdown: {
            Task { await handle.shutdown() }
        }
        dispatcher.stop()
        _ = await leading?.result
        await scheduler.close()
        await store.shutdown()
    }
}
#endif
