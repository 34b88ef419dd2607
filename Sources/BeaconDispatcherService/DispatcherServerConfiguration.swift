#if GRPC
public import BeaconCore

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

    /// Throws ``ServiceError/invalidConfiguration(_:)`` for an empty host, a port outside
    /// 0...65535 or a request limit below 1 KiB.
    public init(
        host: String = "127.0.0.1", port: Int = 4242, tls: ServerTLS? = nil,
        maximumRequestBytes: Int = AssignmentEncoder.defaultByteBudget
    ) throws(ServiceError) {
        guard !host.isEmpty else { throw .invalidConfiguration("the listening host is empty") }
        guard (0 ... 65535).contains(port) else { throw .invalidConfiguration("port \(port) is not in 0...65535") }
        guard maximumRequestBytes >= 1024 else {
            throw .invalidConfiguration("a request limit of \(maximumRequestBytes) bytes is below 1 KiB")
        }
        self.host = host
        self.port = port
        self.tls = tls
        self.maximumRequestBytes = maximumRequestBytes
    }
}
#endif
