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
/// Many agents on one connection keep thousands of long-lived streams open on it (sessions,
/// assignments, heartbeat streams), and a gRPC server's cost per unary call grows with the
/// streams open beside it: grpc-swift runs each stream as a child task of its connection's task
/// group, and the Swift 6.3 runtime finds a finished child by walking the group's list (fixed
/// upstream in swiftlang/swift#87887), while SwiftNIO's HTTP/2 handler keeps its streams in an
/// array. With `unaryCallsOnSeparateConnections`, unary calls (`Heartbeat`,
/// `UpdateTaskStatus`) go over connections of their own, which hold no long-lived stream.
///
/// Agents that beat with datagrams (``HeartbeatTransport/datagrams``) share a UDP socket per
/// address family, and a timer thread per clock that sends their beats.
///
/// A connection reconnects by itself when its manager comes back. Call ``close()`` when done.
public final class ManagerConnections: Sendable {
    public typealias Client = Beacon_Dispatcher_V1_Dispatcher.Client<HTTP2ClientTransport.Posix>

    /// Which calls a connection carries.
    enum Purpose: Hashable {
        /// Streams, and unary calls too unless they have connections of their own.
        case streams
        /// Unary calls, on connections apart from the streams.
        case unaryCalls
    }

    private struct PoolKey: Hashable {
        var address: ManagerAddress
        var purpose: Purpose
    }

    private struct Pool {
        var clients: [PoolKey: [GRPCClient<HTTP2ClientTransport.Posix>]] = [:]
        var runners: [Task<Void, Never>] = []
        /// The heartbeat datagram sockets, one per address family (true: IPv6), bound on first use.
        var datagramSockets: [Bool: Task<HeartbeatDatagramSocket, any Error>] = [:]
        /// The datagram beat schedulers, one per clock the agents run on.
        var beatSchedulers: [ObjectIdentifier: any DatagramBeatScheduling] = [:]
        var closed = false
    }

    private let pool = PosixMutex(Pool())
    private let security: HTTP2ClientTransport.Posix.TransportSecurity
    public let connectionsPerManager: Int
    /// Whether unary calls have `connectionsPerManager` connections of their own per manager.
    public let unaryCallsOnSeparateConnections: Bool

    /// Throws ``AgentError/invalidConfiguration(_:)`` for fewer than one connection per manager
    /// or a TLS client certificate without its key.
    ///
    /// - Parameters:
    ///   - tls: the managers' CA and this side's certificate, or nil for plaintext.
    ///   - connectionsPerManager: connections the agents share per manager address.
    ///   - unaryCallsOnSeparateConnections: give unary calls their own connections (see above):
    ///     for a process that runs many agents. A single agent keeps a few streams on its
    ///     connection, and a second connection would cost the manager more than it saves.
    public init(
        tls: AgentTLS? = nil, connectionsPerManager: Int = 1, unaryCallsOnSeparateConnections: Bool = false
    ) throws(AgentError) {
        guard connectionsPerManager >= 1 else {
            throw .invalidConfiguration("connectionsPerManager must be at least 1, not \(connectionsPerManager)")
        }
        self.connectionsPerManager = connectionsPerManager
        self.unaryCallsOnSeparateConnections = unaryCallsOnSeparateConnections
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

    /// The connection for `node`'s calls of `purpose` to the manager at `address`.
    func client(for address: String, node: NodeID, purpose: Purpose = .streams) throws -> Client {
        let key = PoolKey(
            address: try ManagerAddress(address), purpose: unaryCallsOnSeparateConnections ? purpose : .streams)
        let connection = try pool.withLock { pool throws -> GRPCClient<HTTP2ClientTransport.Posix> in
            guard !pool.closed else {
                throw RPCError(code: .unavailable, message: "the agent's connections are closed")
            }
            if let clients = pool.clients[key] {
                return clients[Int(node.fingerprint % UInt64(clients.count))]
            }
            var clients: [GRPCClient<HTTP2ClientTransport.Posix>] = []
            for _ in 0..<connectionsPerManager {
                let transport = try HTTP2ClientTransport.Posix(target: key.address.target, transportSecurity: security)
                let client = GRPCClient(transport: transport)
                clients.append(client)
                pool.runners.append(Task { try? await client.runConnections() })
            }
            pool.clients[key] = clients
            return clients[Int(node.fingerprint % UInt64(clients.count))]
        }
        return Client(wrapping: connection)
    }

    /// The UDP socket the agents' heartbeat datagrams to IPv6 (or IPv4) managers go through,
    /// bound on first use and shared by every agent of these connections.
    func datagramSocket(ipv6: Bool) async throws -> HeartbeatDatagramSocket {
        let binding = try pool.withLock { pool throws -> Task<HeartbeatDatagramSocket, any Error> in
            guard !pool.closed else {
                throw RPCError(code: .unavailable, message: "the agent's connections are closed")
            }
            if let binding = pool.datagramSockets[ipv6] { return binding }
            let binding = Task { try await HeartbeatDatagramSocket.bind(ipv6: ipv6) }
            pool.datagramSockets[ipv6] = binding
            return binding
        }
        do {
            return try await binding.value
        } catch {
            // A bind that failed is not kept: the next session tries again.
            pool.withLock { pool in
                if pool.datagramSockets[ipv6] == binding { pool.datagramSockets[ipv6] = nil }
            }
            throw error
        }
    }

    /// The scheduler that sends the steady heartbeat datagrams of the agents on `clock`, made on
    /// first use. Agents on the system's clock share one; agents on a `ManualClock` share one per
    /// clock.
    ///
    /// - Throws: ``AgentError/invalidConfiguration(_:)`` for another kind of clock (a scheduler's
    ///   thread can wait only on those two), or once the connections are closed.
    func beatScheduler(clock: any BeaconClock) throws(AgentError) -> any DatagramBeatScheduling {
        let key: ObjectIdentifier
        if clock is MonotonicClock {
            key = ObjectIdentifier(MonotonicClock.self)
        } else if let manual = clock as? ManualClock {
            key = ObjectIdentifier(manual)
        } else {
            throw Self.unschedulable(clock)
        }
        return try pool.withLock { pool throws(AgentError) -> any DatagramBeatScheduling in
            guard !pool.closed else { throw .invalidConfiguration("the agent's connections are closed") }
            if let scheduler = pool.beatSchedulers[key] { return scheduler }
            let scheduler = try Self.makeScheduler(clock: clock)
            pool.beatSchedulers[key] = scheduler
            return scheduler
        }
    }

    private static func makeScheduler(clock: some BeaconClock) throws(AgentError) -> any DatagramBeatScheduling {
        try DatagramBeatScheduler(clock: clock)
    }

    /// Heartbeat datagrams are sent from a thread that waits on the agent's clock, which it can do
    /// on the system's monotonic clock and on a `ManualClock` only.
    static func unschedulable(_ clock: any BeaconClock) -> AgentError {
        .invalidConfiguration(
            "heartbeat datagrams run on MonotonicClock or ManualClock, not \(type(of: clock))")
    }

    /// Stops the datagram beat schedulers' threads, closes every connection once its calls have
    /// finished, and waits for them.
    public func close() async {
        let (runners, datagramSockets, beatSchedulers) = pool.withLock { pool in
            pool.closed = true
            for clients in pool.clients.values {
                for client in clients { client.beginGracefulShutdown() }
            }
            return (pool.runners, Array(pool.datagramSockets.values), Array(pool.beatSchedulers.values))
        }
        for scheduler in beatSchedulers { scheduler.close() }
        for runner in runners { await runner.value }
        for socket in datagramSockets { await (try? socket.value)?.close() }
    }
}
#endif
