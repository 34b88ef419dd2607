#if GRPC
import BeaconAgent
import BeaconClient
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherAPI
import BeaconDispatcherService
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing

/// A manager serving mutual TLS with a CA made in the test: an agent with a certificate from
/// that CA naming its node gets a session; a certificate from another CA, or one naming another
/// node, is refused.
@Suite(.timeLimit(.minutes(2))) struct MutualTLSTests {
    private let cluster: TestCertificateAuthority
    private let serverTLS: ServerTLS

    init() throws {
        cluster = try TestCertificateAuthority(name: "Beacon test cluster CA")
        let server = try cluster.issue(commonName: "manager-1")
        serverTLS = ServerTLS(
            certificateChainPEM: server.certificatePEM, privateKeyPEM: server.privateKeyPEM,
            clientCertificateAuthorityPEM: cluster.certificatePEM)
    }

    private func store() -> InMemoryDispatcherStore {
        let store = InMemoryDispatcherStore()
        store.createNode(nodeID("node-1"))
        return store
    }

    @Test func anAgentWithItsClusterCertificateRegisters() async throws {
        let store = store()
        let manager = try await RunningManager(store: store, tls: serverTLS)
        let identity = try cluster.issue(commonName: "node-1")
        let connections = try ManagerConnections(
            tls: AgentTLS(
                certificateAuthorityPEM: cluster.certificatePEM, certificateChainPEM: identity.certificatePEM,
                privateKeyPEM: identity.privateKeyPEM))
        let agent = try NodeAgent(
            configuration: AgentConfiguration(
                node: nodeID("node-1"), managers: [manager.address],
                backoff: Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))),
            connections: connections)
        let running = Task { try await agent.run() }
        try await eventually("the node is READY over mutual TLS") {
            store.node(nodeID("node-1"))?.status.state == .ready && manager.dispatcher.heartbeatCount > 0
        }
        running.cancel()
        _ = await running.result
        await manager.stop()
        await connections.close()
    }

    /// A heartbeat from a client holding `identity`, issued by `authority`, claiming `node`.
    private func heartbeat(
        to manager: RunningManager, identity: TestCertificateAuthority.Issued, claiming node: String
    ) async throws -> RPCError? {
        let security = HTTP2ClientTransport.Posix.TransportSecurity.mTLS(
            certificateChain: [.bytes(Array(identity.certificatePEM.utf8), format: .pem)],
            privateKey: .bytes(Array(identity.privateKeyPEM.utf8), format: .pem)
        ) { config in
            config.trustRoots = .certificates([.bytes(Array(cluster.certificatePEM.utf8), format: .pem)])
        }
        return try await withGRPCClient(
            transport: .http2NIOPosix(
                target: .ipv4(address: "127.0.0.1", port: manager.port), transportSecurity: security)
        ) { client in
            var options = CallOptions.defaults
            options.timeout = .seconds(10)
            do {
                _ = try await Beacon_Dispatcher_V1_Dispatcher.Client(wrapping: client).heartbeat(
                    .with { $0.sessionID = String(repeating: "0", count: 31) + "1" },
                    metadata: [DispatcherWire.nodeIDMetadataKey: .string(node)], options: options)
                return nil
            } catch let error as RPCError {
                return error
            }
        }
    }

    @Test func aCertificateFromAnotherAuthorityIsRefused() async throws {
        let manager = try await RunningManager(store: store(), tls: serverTLS)
        let rogue = try TestCertificateAuthority(name: "Rogue CA").issue(commonName: "node-1")
        let error = try await heartbeat(to: manager, identity: rogue, claiming: "node-1")
        // The handshake fails, so the call never reaches the service.
        #expect(error?.code == .unavailable)
        // The same call with a cluster certificate reaches the dispatcher, which finds no session.
        let genuine = try await heartbeat(
            to: manager, identity: try cluster.issue(commonName: "node-1"), claiming: "node-1")
        #expect(genuine?.code == .notFound || genuine?.code == .invalidArgument)
        await manager.stop()
    }

    @Test func aNodeCannotClaimAnotherNodesIdentity() async throws {
        let manager = try await RunningManager(store: store(), tls: serverTLS)
        let otherNode = try cluster.issue(commonName: "node-2")
        let error = try await heartbeat(to: manager, identity: otherNode, claiming: "node-1")
        #expect(error?.code == .permissionDenied)
        #expect(error?.message.contains("names node-2, not node node-1") == true)
        await manager.stop()
    }
}
#endif
