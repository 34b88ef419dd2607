import BeaconPrimitives

#if GRPC
import BeaconCore
import BeaconDispatcher
public import BeaconDispatcherAPI
import GRPCCore
public import GRPCNIOTransportHTTP2

/// gRPC connections to managers, shared by any number of agents: each manager address gets
/// `connectionsPerManager` HTTP/2 connections, and an agent's calls go over the one its node id
/// hashes to. One agent needs one connection; a load generator runs thousands of agents over a
/// few.
///
/// A connection reconnects by itself when its manager comes back. Call ``close()`` when done.
public final class ManagerConnections: Sendable {
    public typealias Client = Beacon_Dispatcher_V1_Dispatcher.Client<HTTP2ClientTransport.Posix>

    private struct Pool {
        var clients: [ManagerAddress: [GRPCClient<HTTP2ClientTransport.Posix>]] = [:]
        var runners: [Task<Void, Never>] = []
        var closed = false
    }

    private let pool = PosixMutex(Pool())
    private let security: HTTP2ClientTransport.Posix.TransportSecurity
    public let connectionsPerManager: Int

    /// Throws ``AgentError/invalidConfiguration(_:)`` for fewer than one connection per manager
    /// or a TLS client certificate without its key.
    public init(tls: AgentTLS? = nil, connectionsPerManager: Int = 1) throws(AgentError) {
        guard connectionsPerManager >= 1 else {
            throw .invalidConfiguration("connectionsPerManager must be at least 1, not \(connectionsPerManager)")
        }
        self.connectionsPerManager = connectionsPerManager
        guard let tls else {
            security = .plaintext
            return
        }
        let roots = TLSConfig.TrustRootsSource.certificates([
            .bytes(Array(tls.certificateAuthorityPEM.utf8), format: .pem)
        ])
        switch (tls.certificateChainPEM, tls.privateKeyPEM) {
        case (let chain?, let key?):
            security = .mTLS(
                certificateChain: [.bytes(Array(chain.utf8), format: .pem)],
                privateKey: .bytes(Array(key.utf8), format: .pem)
            ) { config in
                config.trustRoots = roots
                config.serverCertificateVerification = .fullVerification
            }
        case (nil, nil):
            security = .tls { config in
                config.trustRoots = roots
                config.serverCertificateVerification = .fullVerification
            }
        default:
            throw .invalidConfiguration("a client certificate needs its private key, and a key its certificate")
        }
    }

    /// The connection for `node`'s calls to the manager at `address`.
    func client(for address: String, node: NodeID) throws -> Client {
        let parsed = try ManagerAddress(address)
        let connection = try pool.withLock { pool throws -> GRPCClient<HTTP2ClientTransport.Posix> in
            guard !pool.closed else {
                throw RPCError(code: .unavailable, message: "the agent's connections are closed")
            }
            if let clients = pool.clients[parsed] {
                return clients[Int(node.fingerprint % UInt64(clients.count))]
            }
            var clients: [GRPCClient<HTTP2ClientTransport.Posix>] = []
            for _ in 0..<connectionsPerManager {
                let transport = try HTTP2ClientTransport.Posix(target: parsed.target, transportSecurity: security)
                let client = GRPCClient(transport: transport)
                clients.append(client)
                pool.runners.append(Task { try? await client.runConnections() })
            }
            pool.clients[parsed] = clients
            return clients[Int(node.fingerprint % UInt64(clients.count))]
        }
        return Client(wrapping: connection)
    }

    /// Closes every connection once its calls have finished, and waits for them.
    public func close() async {
        let runners = pool.withLock { pool -> [Task<Void, Never>] in
            pool.closed = true
            for clients in pool.clients.values {
                for client in clients { client.beginGracefulShutdown() }
            }
            return pool.runners
        }
        for runner in runners { await runner.value }
    }
}
#endif
