#if GRPC
public import BeaconCore
import BeaconDispatcherAPI
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where and how a ``DispatcherServer`` listens.
public struct DispatcherServerConfiguration: Sendable, Hashable {
    /// The address to listen on: an IPv4 or IPv6 literal.
    public var host: String
    /// The port; 0 picks a free one (read it from ``DispatcherServer/listeningPort``).
    public var port: Int
    /// TLS, or nil for plaintext.
    public var tls: ServerTLS?
    /// The largest request the server reads. The default is the task-diff byte budget: a status
    /// report never needs more than the assignment set it reports on.
    public var maximumRequestBytes: Int
    /// Streams one HTTP/2 connection may hold open. Every node keeps two (its session and its
    /// assignments), so a connection that carries many nodes (a proxy, a load generator) needs
    /// many; HTTP/2 peers otherwise assume 100.
    public var maximumStreamsPerConnection: Int
    /// Time every successful call, per method, into the swift-metrics histogram
    /// `beacon_rpc_duration_seconds`. Off by default: it costs two clock reads and a histogram
    /// update per call and per streamed heartbeat, which only a bootstrapped metrics backend
    /// makes worth paying.
    public var recordsCallLatency = false
    /// Answer `Heartbeat` and `HeartbeatStream` calls on the HTTP/2 stream's event loop, ahead of
    /// grpc-swift, with no async hop per beat (grpc-swift still parks a task per stream); other
    /// calls, and heartbeat calls that use compression or another content type, go through
    /// grpc-swift either way. With it, grpc-swift's flush coalescing is off for every call on the
    /// server, and a cancelled server closes its connections. An oversized heartbeat request gets
    /// `RESOURCE_EXHAUSTED` rather than a reset stream. On by default; off measures grpc-swift's
    /// own path (docs/service.md, "Heartbeats on the event loop").
    public var answersHeartbeatsOnEventLoop = true
    /// Also answer heartbeats as UDP datagrams (`HeartbeatDatagram`) on the same host and port
    /// number as the gRPC service: the lane for agents configured to beat that way. Sessions,
    /// assignments and status reports stay on gRPC. Off by default.
    public var acceptsHeartbeatDatagrams = false
    /// How long the datagram lane lets beats gather after each read before it reads again: up to
    /// that much more round-trip time, for fewer wake-ups per beat (0 reads as soon as a datagram
    /// arrives). A read that fills its 64 places reads again at once. Set it with
    /// ``setHeartbeatDatagramBatching(_:)``, which checks it.
    public private(set) var heartbeatDatagramBatching: Duration = .milliseconds(1)

    /// The longest ``heartbeatDatagramBatching``: beyond it the wait is a visible part of a beat.
    public static let maximumHeartbeatDatagramBatching: Duration = .milliseconds(100)

    /// Sets ``heartbeatDatagramBatching``; throws ``ServiceError/invalidConfiguration(_:)`` for a
    /// wait that is negative or above ``maximumHeartbeatDatagramBatching``.
    public mutating func setHeartbeatDatagramBatching(_ wait: Duration) throws(ServiceError) {
        guard wait >= .zero, wait <= Self.maximumHeartbeatDatagramBatching else {
            throw .invalidConfiguration(
                "a heartbeat datagram batching wait of \(wait) is not in 0...\(Self.maximumHeartbeatDatagramBatching)")
        }
        heartbeatDatagramBatching = wait
    }

    /// Throws ``ServiceError/invalidConfiguration(_:)`` for a host that is not an address, a port outside
    /// 0...65535, a request limit below 1 KiB or a stream limit below 1.
    public init(
        host: String = "127.0.0.1", port: Int = 4242, tls: ServerTLS? = nil,
        maximumRequestBytes: Int = AssignmentEncoder.defaultByteBudget, maximumStreamsPerConnection: Int = 1 << 20
    ) throws(ServiceError) {
        guard Self.isAddressLiteral(host) else {
            throw .invalidConfiguration(
                "the listening host \(host.isEmpty ? "is empty" : "\(host) is not an IPv4 or IPv6 address")")
        }
        guard (0...65535).contains(port) else { throw .invalidConfiguration("port \(port) is not in 0...65535") }
        guard maximumRequestBytes >= DispatcherWire.minimumMessageLimit else {
            throw .invalidConfiguration("a request limit of \(maximumRequestBytes) bytes is below 1 KiB")
        }
        guard (1...Int(Int32.max)).contains(maximumStreamsPerConnection) else {
            throw .invalidConfiguration(
                "\(maximumStreamsPerConnection) streams per connection is not in 1...\(Int32.max)")
        }
        self.host = host
        self.port = port
        self.tls = tls
        self.maximumRequestBytes = maximumRequestBytes
        self.maximumStreamsPerConnection = maximumStreamsPerConnection
    }

    private static func isAddressLiteral(_ host: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, host, &buffer) == 1 || inet_pton(AF_INET6, host, &buffer) == 1
    }
}
#endif
