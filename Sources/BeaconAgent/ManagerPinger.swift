#if GRPC
import BeaconClient
import BeaconDispatcher
import BeaconDispatcherAPI
import GRPCCore

/// Pings a manager the cheapest way it answers: a heartbeat on a well-formed session id no
/// dispatcher issues. A leading manager refuses it (NotFound or InvalidArgument), which shows it
/// is up and leading; a stopped one answers Aborted, and one that is down does not answer.
struct ManagerPinger: Pinger {
    let connections: ManagerConnections
    let node: NodeID

    /// Slot 0, generation 0, secret 1: dispatchers draw secrets at random, so none holds it.
    static let unissuedSession = String(repeating: "0", count: 31) + "1"

    func ping(_ server: ManagedServer) async -> Bool {
        do {
            let client = try connections.client(for: server.address, node: node)
            var options = CallOptions.defaults
            options.timeout = .seconds(2)
            options.waitForReady = false
            _ = try await client.heartbeat(
                .with { $0.sessionID = Self.unissuedSession },
                metadata: [DispatcherWire.nodeIDMetadataKey: .string(node.rawValue)],
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
