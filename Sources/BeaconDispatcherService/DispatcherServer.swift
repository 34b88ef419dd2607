#if GRPC
public import BeaconCore
public import BeaconDispatcher
import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
public import ServiceLifecycle

/// A gRPC server for a `Dispatcher` (HTTP/2 over SwiftNIO, optionally with mutual TLS), as a
/// swift-service-lifecycle `Service` and a `LongRunningService`.
///
/// The server only answers calls; the dispatcher leads while something runs it. Put both in a
/// service group, the dispatcher's service last: a group shuts its services down last to first,
/// so on SIGTERM the dispatcher stops first (every node gets a session message with `disconnect`
/// set and its streams end), then the server finishes the calls in flight and closes.
///
/// ```swift
/// let server = try DispatcherServer(dispatcher: dispatcher, configuration: .init(port: 4242))
/// let group = ServiceGroup(
///     services: [server, LifecycleService(dispatcher)], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public final class DispatcherServer: Service, LongRunningService {
    public let dispatcher: Dispatcher<MonotonicClock>
    public let configuration: DispatcherServerConfiguration
    private let transport: HTTP2ServerTransport.Posix
    private let server: GRPCServer<HTTP2ServerTransport.Posix>

    /// - Parameters:
    ///   - dispatcher: the dispatcher to serve; run it (`Dispatcher.run()`) alongside.
    ///   - configuration: the address, TLS and limits to serve with.
    ///   - admission: see ``DispatcherRPCService/Admission``.
    ///   - logger: where refused and failed calls are logged.
    public init(
        dispatcher: Dispatcher<MonotonicClock>, configuration: DispatcherServerConfiguration,
        admission: DispatcherRPCService.Admission? = nil, logger: Logger = Logger(label: "beacon.dispatcher.rpc")
    ) throws(ServiceError) {
        self.dispatcher = dispatcher
        self.configuration = configuration
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
            config: .defaults { config in
                config.rpc.maxRequestPayloadSize = configuration.maximumRequestBytes
                config.http2.maxConcurrentStreams = configuration.maximumStreamsPerConnection
            })
        let service = DispatcherRPCService(
            dispatcher: dispatcher, requiresClientCertificate: configuration.tls?.isMutual ?? false,
            admission: admission, recordsCallLatency: configuration.recordsCallLatency, logger: logger)
        server = GRPCServer(transport: transport, services: [service])
    }

    /// Serves until a graceful shutdown (or ``stop()``) lets the calls in flight finish, or until
    /// the task is cancelled, which ends the calls in flight at once.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.serve()
        } onGracefulShutdown: { [server] in
            server.beginGracefulShutdown()
        }
    }

    /// Stops accepting calls and returns from ``run()`` once the calls in flight have finished.
    public func stop() {
        server.beginGracefulShutdown()
    }

    /// The port the server listens on, once it does (useful with port 0).
    public var listeningPort: Int {
        get async throws {
            let address = try await transport.listeningAddress
            if let ipv4 = address.ipv4 { return ipv4.port }
            if let ipv6 = address.ipv6 { return ipv6.port }
            throw RPCError(code: .internalError, message: "the server listens on \(address), which has no port")
        }
    }
}
#endif
