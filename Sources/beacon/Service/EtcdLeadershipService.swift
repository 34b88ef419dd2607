#if GRPC && Etcd
import BeaconCommandLine
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherLeadership
import BeaconCoordination
import BeaconScheduler
import BeaconCoordinationEtcd
import Logging
import ServiceLifecycle

/// `beacon serve --etcd`: the dispatcher joins a group on etcd with one seat (mgmt's scheduler,
/// `alpha` strategy: the first name leads) and leads only while it holds the seat. A graceful
/// shutdown stops the dispatcher and leaves the group, so another manager takes over at once.
struct EtcdLeadershipService: Service {
    let dispatcher: Dispatcher<MonotonicClock>
    let endpoints: [String]
    let group: String
    let name: String

    func run() async throws {
        let store = try EtcdCoordinationStore(endpoints: endpoints)
        // The observer prints each change on standard output; the log keeps only the warnings.
        var logger = Logger(label: "beacon.leadership")
        logger.logLevel = .warning
        let leadership = DispatcherLeadership(
            dispatcher: dispatcher, store: store, group: group, name: name,
            options: ScheduleOptions(strategy: AlphabeticalStrategy.name), logger: logger
        ) { [group, name] event in
            switch event {
            case .joined: LineOutput.standardOutput.write("joined \(group) on etcd as \(name)")
            case .chosen(let chosen, let leading):
                LineOutput.standardOutput.write(
                    "dispatcher group chose \(chosen.joined(separator: ", ")): \(leading ? "leading" : "following")")
            case .leaseLost: LineOutput.standardOutput.write("session lease lost: following")
            case .dispatcherFailed(let error):
                LineOutput.standardOutput.write("the dispatcher failed: \(error); leaving the group")
            }
        }
        do {
            try await cancelWhenGracefulShutdown { try await leadership.run() }
        } catch {
            await store.shutdown()
            throw error
        }
        await store.shutdown()
    }
}
#endif
