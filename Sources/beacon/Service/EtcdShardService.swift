#if GRPC && Etcd
import BeaconCommandLine
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherCoordination
import BeaconDispatcherLeadership
import BeaconCoordinationEtcd
import Logging
import ServiceLifecycle

/// `beacon serve --etcd … --sharded`: this manager keeps an entry bound to its lease under
/// `root`, serves the nodes the managers' shared table gives it, and fences its writes on its
/// entry. A graceful shutdown stops the dispatcher and revokes the lease, so the others take its
/// nodes over at once. The service owns both stores and closes them when it ends.
struct EtcdShardService: Service {
    let dispatcher: Dispatcher<MonotonicClock>
    let coordination: EtcdCoordinationStore
    let records: CoordinatedDispatcherStore
    let root: String
    let manager: WeightedManager

    func run() async throws {
        var logger = Logger(label: "beacon.shards")
        logger.logLevel = .warning
        let sharded = ShardedDispatcher(
            dispatcher: dispatcher, records: records, store: coordination, root: root, manager: manager,
            logger: logger
        ) { [manager, dispatcher] event in
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
        do {
            try await cancelWhenGracefulShutdown { try await sharded.run() }
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
