#if GRPC && Etcd
import BeaconCommandLine
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherCoordination
import BeaconDispatcherLeadership
import BeaconCoordination
import BeaconScheduler
import BeaconCoordinationEtcd
import Logging
import ServiceLifecycle

/// `beacon serve --etcd`: the dispatcher joins a group on etcd with one seat (mgmt's scheduler,
/// `alpha` strategy: the first name leads) and leads only while it holds the seat. A graceful
/// shutdown stops the dispatcher and leaves the group, so another manager takes over at once.
///
/// The dispatcher's records are in the same etcd: the leadership fences them on the group's
/// choice and reads them up to date at the start of each term. The service owns both stores and
/// closes them when it ends.
struct EtcdLeadershipService: Service {
    let dispatcher: Dispatcher<MonotonicClock>
    let coordination: EtcdCoordinationStore
    let records: CoordinatedDispatcherStore
    let group: String
    let name: String

    func run() async throws {
        // The observer prints each change on standard output; the log keeps only the warnings.
        var logger = Logger(label: "beacon.leadership")
        logger.logLevel = .warning
        let leadership = DispatcherLeadership(
            dispatcher: dispatcher, store: coordination, records: records, group: group, name: name,
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
            await close()
            throw error
        }
        await close()
    }

    private func close() async {
        await records.close()
        await coordination.shutdown()
    }
}
#endif
