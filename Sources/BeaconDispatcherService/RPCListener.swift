#if GRPC
package import GRPCCore
import GRPCNIOTransportHTTP2
import ServiceLifecycle

/// The HTTP/2 transport and gRPC server behind ``DispatcherServer``, for any services: the
/// dispatcher's, or the echo baseline that `beacon serve --echo` measures the transport with.
package final class RPCListener: Service {
    private let transport: HTTP2ServerTransport.Posix
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let onShutdown: @Sendable () -> Void
    private let connections: OpenConnections

    /// - Parameters:
    ///   - configuration: the address, TLS and limits to serve with.
    ///   - services: the services to answer with.
    ///   - onShutdown: called as a graceful shutdown begins, before the server waits for its calls
    ///     to end: for services whose streams only end when told to.
    ///   - heartbeats: answers `Heartbeat` and `HeartbeatStream` calls on the event loop
    ///     (``EventLoopHeartbeatHandler``) ahead of `services`; nil leaves them to `services`.
    package init(
        configuration: DispatcherServerConfiguration, services: [any RegistrableRPCService],
        heartbeats: EventLoopHeartbeats? = nil, onShutdown: @escaping @Sendable () -> Void = {}
    ) {
        self.onShutdown = onShutdown
        let connections = OpenConnections()
        self.connections = connections
        let security: HTTP2ServerTransport.Posix.TransportSecurity
        if let tls = configuration.tls {
            let chain: [TLSConfig.CertificateSource] = [.bytes(Array(tls.certificateChainPEM.utf8), format: .pem)]
            let key = TLSConfig.PrivateKeySource.bytes(Array(tls.privateKeyPEM.utf8), format: .pem)
            if let authority = tls.clientCertificateAuthorityPEM {
                security = .mTLS(certificateChain: chain, privateKey: key) { config in
                    config.trustRoots = .certificates([.bytes(Array(authority.utf8), format: .pem)])
                    config.clientCertificateVerification = .noHostnameVerification
                }
            } else {
                security = .tls(certificateChain: chain, privateKey: key)
            }
        } else {
            security = .plaintext
        }
        transport = HTTP2ServerTransport.Posix(
            address: configuration.host.contains(":")
                ? .ipv6(host: configuration.host, port: configuration.port)
                : .ipv4(host: configuration.host, port: configuration.port),
            transportSecurity: security,
            config: .defaults { [connections] config in
                config.rpc.maxRequestPayloadSize = configuration.maximumRequestBytes
                config.http2.maxConcurrentStreams = configuration.maximumStreamsPerConnection
                // Every connection is tracked, so a cancelled server can close them: a stream
                // whose headers no handler of grpc-swift's ever saw (one the timeout guard
                // answered) keeps grpc-swift's task for it waiting until the stream closes.
                config.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
                    connections.add(channel)
                    return channel.eventLoop.makeSucceededVoidFuture()
                }
                // Called once grpc-swift has set up the stream's pipeline; the handlers go in
                // front of grpc-swift's, so they see the stream's frames first: the timeout guard,
                // then the heartbeat handler.
                config.channelDebuggingCallbacks.onAcceptHTTP2Stream = { stream in
                    stream.eventLoop.makeCompletedFuture {
                        let pipeline = stream.pipeline.syncOperations
                        if let heartbeats {
                            try pipeline.addHandler(
                                heartbeats.handler(maximumRequestBytes: configuration.maximumRequestBytes),
                                position: .first)
                        }
                        try pipeline.addHandler(GRPCTimeoutGuard(), position: .first)
                    }
                }
                // Beats answered on the event loop are written inside a read, and SwiftNIO's HTTP/2
                // handler already flushes once per read; grpc-swift's coalescing would hold each
                // answer back on a timer, a second wake-up per beat (docs/benchmarks.md).
                if heartbeats != nil { config.connection.flushCoalescing = nil }
            })
        server = GRPCServer(transport: transport, services: services)
    }

    /// Serves until a graceful shutdown (or ``stop()``) lets the calls in flight finish, or until
    /// the task is cancelled, which ends the calls in flight at once.
    package func run() async throws {
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await server.serve()
            } onGracefulShutdown: { [server, onShutdown] in
                onShutdown()
                server.beginGracefulShutdown()
            }
        } onCancel: { [connections] in
            connections.closeAll()
        }
    }

    /// Stops accepting calls and returns from ``run()`` once the calls in flight have finished.
    package func stop() {
        onShutdown()
        server.beginGracefulShutdown()
    }

    /// The port the server listens on, once it does.
    package var listeningPort: Int {
        get async throws {
            let address = try await transport.listeningAddress
            if let ipv4 = address.ipv4 { return ipv4.port }
            if let ipv6 = address.ipv6 { return ipv6.port }
            throw RPCError(code: .internalError, message: "the server listens on \(address), which has no port")
        }
    }
}
#endif
