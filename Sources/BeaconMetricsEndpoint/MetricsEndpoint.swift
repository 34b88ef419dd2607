#if GRPC
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOHTTP1
import NIOPosix
package import Prometheus
import ServiceLifecycle

/// A small HTTP/1.1 server that answers `GET /metrics` with a Prometheus registry in text
/// format: what `beacon serve --metrics` listens with. It runs on SwiftNIO, which the gRPC
/// transport already brings, rather than on an HTTP framework of its own.
///
/// ```swift
/// let factory = DescribedPrometheusFactory(describing: DispatcherMetrics.descriptions)
/// MetricsSystem.bootstrap(factory)
/// let endpoint = try await MetricsEndpoint.bind(host: "127.0.0.1", port: 0, registry: factory.registry)
/// print("scrape http://\(endpoint.address)/metrics")   // port 0: the one the system chose
/// ```
package final class MetricsEndpoint: Service, Sendable {
    /// The address it listens on, `host:port` (`[host]:port` for IPv6), with the port the system
    /// chose when asked for port 0.
    package let address: String
    /// The port it listens on.
    package let port: Int
    private let channel: any Channel

    private init(channel: any Channel, host: String, port: Int) {
        self.channel = channel
        self.port = port
        address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Listens on `host` (an IPv4 or IPv6 address) and `port` (0: any free port). A connection
    /// that has not sent a whole request `requestTimeout` after it opened is closed, however
    /// slowly its bytes keep coming, so clients that stall cannot pile up. Throws
    /// ``MetricsEndpointError`` when it cannot listen, naming the address and the system's
    /// reason, or when `requestTimeout` is not positive.
    package static func bind(
        host: String, port: Int, registry: PrometheusCollectorRegistry, requestTimeout: Duration = .seconds(10)
    ) async throws(MetricsEndpointError) -> MetricsEndpoint {
        let asked = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        guard requestTimeout > .zero else {
            throw MetricsEndpointError(address: asked, reason: "the request timeout must be positive")
        }
        let timeout = TimeAmount(requestTimeout)
        do {
            // SwiftNIO's shared event loops: the ones the gRPC server runs on.
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(
                            MetricsHTTPHandler(registry: registry, requestTimeout: timeout))
                    }
                }
                .bind(host: host, port: port).get()
            guard let bound = channel.localAddress?.port else {
                try? await channel.close()
                throw MetricsEndpointError(address: asked, reason: "the socket has no port")
            }
            return MetricsEndpoint(channel: channel, host: host, port: bound)
        } catch let error as MetricsEndpointError {
            throw error
        } catch let error as IOError {
            throw MetricsEndpointError(address: asked, reason: String(cString: strerror(error.errnoCode)))
        } catch {
            throw MetricsEndpointError(address: asked, reason: "\(error)")
        }
    }

    /// Serves until a graceful shutdown or cancellation, then stops listening.
    package func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Stops listening; connections in flight finish their one answer.
    package func close() async {
        try? await channel.close()
    }
}
#endif
