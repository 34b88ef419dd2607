#if GRPC && Etcd
import BeaconCommandLine
import BeaconCore
import BeaconCoordination
import BeaconCoordinationEtcd
import BeaconDispatcher
import BeaconDispatcherCoordination
import BeaconDispatcherLeadership
import BeaconScheduler
import Logging
import ServiceLifecycle

/// `beacon serve --etcd`: runs how this manager takes part on etcd — one leader elected among the
/// managers (`leading`), or every manager serving its shard of the nodes (`sharded`) — until a
/// graceful shutdown, which stops the dispatcher and gives up the manager's seat or lease so the
/// others take over at once. The dispatcher's records are in the same etcd; the service owns both
/// stores and closes them when it ends. Each form prints its changes on standard output; the log
/// keeps only the warnings.
struct EtcdManagerService: Service {
    let deployment: any LongRunningService
    let coordination: EtcdCoordinationStore
    let records: CoordinatedDispatcherStore

    /// The dispatcher leads while it holds the group's one seat (mgmt's scheduler, `alpha`
    /// strategy: the first name leads); the leadership fences the records on the group's choice
    /// and reads them up to date at the start of each term.
    static func leading(
        _ dispatcher: Dispatcher<MonotonicClock>, coordination: EtcdCoordinationStore,
        records: CoordinatedDispatcherStore, group: String, name: String
    ) -> EtcdManagerService {
        let leadership = DispatcherLeadership(
            dispatcher: dispatcher, store: coordination, records: records, group: group, name: name,
            options: ScheduleOptions(strategy: AlphabeticalStrategy.name), logger: warningsOnly("beacon.leadership")
        ) { event in
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
        return EtcdManagerService(deployment: leadership, coordination: coordination, records: records)
    }

    /// `--sharded`: this manager keeps an entry bound to its lease under `root`, serves the nodes
    /// the managers' shared table gives it, and fences its writes on its entry.
    static func sharded(
        _ dispatcher: Dispatcher<MonotonicClock>, coordination: EtcdCoordinationStore,
        records: CoordinatedDispatcherStore, root: String, manager: WeightedManager
    ) -> EtcdManagerService {
        let sharded = ShardedDispatcher(
            dispatcher: dispatcher, records: records, store: coordination, root: root, manager: manager,
            logger: warningsOnly("beacon.shards")
        ) { event in
            switch event {
            case .joined(let lease):
                LineOutput.standardOutput.write("joined the managers as \(manager.nodeID) (lease \(lease))")
            case .shardChanged(let table):
                let held = table.slotsPerManager
                let shares = zip(table.managers, held).map { "\($0.nodeID) \($1)" }.joined(separator: ", ")
                LineOutput.standardOutput.write(
                    "shard table: \(shares) slots; this manager holds \(dispatcher.nodeCount) nodes now")
            case .leaseLost: LineOutput.standardOutput.write("lease lost: serving nothing until joined again")
            }
        }
        return EtcdManagerService(deployment: sharded, coordination: coordination, records: records)
    }

    private static func warningsOnly(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        return logger
    }

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await deployment.run() }
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
