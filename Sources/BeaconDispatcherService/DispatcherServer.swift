#if GRPC
public import BeaconCore
public import BeaconDispatcher
import BeaconPrimitives
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
    private let listener: RPCListener
    /// Settled once the heartbeat datagram socket is bound, or could not be.
    private let datagramsBound = Latch<Result<Void, any Error>>()

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
        let service = DispatcherRPCService(
            dispatcher: dispatcher, requiresClientCertificate: configuration.tls?.isMutual ?? false,
            admission: admission, recordsCallLatency: configuration.recordsCallLatency,
            maximumRequestBytes: configuration.maximumRequestBytes, logger: logger)
        listener = RPCListener(
            configuration: configuration, services: [service],
            heartbeats: configuration.answersHeartbeatsOnEventLoop ? service.eventLoopHeartbeats : nil)
    }

    /// Serves until a graceful shutdown (or ``stop()``) lets the calls in flight finish, or until
    /// the task is cancelled, which ends the calls in flight at once.
    ///
    /// With ``DispatcherServerConfiguration/acceptsHeartbeatDatagrams`` it binds the datagram
    /// socket once the gRPC service listens, to the same port number, and closes it when the
    /// service has stopped. If the socket closes first, the gRPC service is stopped too and this
    /// throws ``ServiceError/laneEnded(_:)``.
    public func run() async throws {
        guard configuration.acceptsHeartbeatDatagrams else { return try await listener.run() }
        try await withThrowingTaskGroup(of: Lane.self) { group in
            group.addTask {
                try await self.listener.run()
                return .calls
            }
            let datagrams: HeartbeatDatagramListener
            do {
                datagrams = try await HeartbeatDatagramListener.bind(
                    dispatcher: dispatcher, host: configuration.host, port: try await listener.listeningPort,
                    batching: configuration.heartbeatDatagramBatching)
                datagramsBound.settle(.success(()))
            } catch {
                datagramsBound.settle(.failure(error))
                throw error
            }
            group.addTask {
                await datagrams.run()
                return .datagrams
            }
            defer {
                datagrams.close()
                group.cancelAll()
            }
            // Whichever ends first ends the other: a server never runs with one of its lanes gone.
            if try await group.next() == .datagrams {
                throw ServiceError.laneEnded("the heartbeat datagram socket closed while the server ran")
            }
        }
    }

    private enum Lane {
        case calls, datagrams
    }

    /// Stops accepting calls and returns from ``run()`` once the calls in flight have finished.
    public func stop() {
        listener.stop()
    }

    /// The port the server listens on, once it does (useful with port 0); with
    /// ``DispatcherServerConfiguration/acceptsHeartbeatDatagrams``, once the datagram socket is
    /// bound to the same port number too.
    public var listeningPort: Int {
        get async throws {
            let port = try await listener.listeningPort
            if configuration.acceptsHeartbeatDatagrams { try await datagramsBound.wait().get() }
            return port
        }
    }
}
#endif
