#if GRPC
import BeaconClient
import BeaconDispatcher
import BeaconDispatcherAPI
import GRPCCore

/// Pings a manager the cheapest way it answers: a heartbeat with no session. A leading manager
/// refuses it as an invalid session, which shows it is up and leading; a stopped one answers
/// Aborted, and one that is down does not answer.
struct ManagerPinger: Pinger {
    let connections: ManagerConnections
    let node: NodeID

    func ping(_ server: ManagedServer) async -> Bool {
        do {
            let client = try connections.client(for: server.address, node: node)
            var options = CallOptions.defaults
            options.timeout = .seconds(2)
            options.waitForReady = false
            _ = try await client.heartbeat(
                Beacon_Dispatcher_V1_HeartbeatRequest(), metadata: [DispatcherWire.nodeIDMetadataKey: .string(node.rawValue)],
                options: options)
            return true
        } catch let error as RPCError {
            return error.code == .invalidArgument || error.code == .notFound
        } catch {
            return false
        }
    }
}
#endif
