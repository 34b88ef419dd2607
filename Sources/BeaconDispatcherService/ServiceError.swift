#if GRPC
/// What the gRPC service and its configuration refuse.
public enum ServiceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A configuration value is out of range.
    case invalidConfiguration(String)
    /// A certificate or key file could not be read.
    case unreadableFile(path: String, reason: String)
    /// One of a running server's lanes stopped on its own, which stops the server: it never runs
    /// with a lane gone (the reason names the lane).
    case laneEnded(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let reason): "invalid service configuration: \(reason)"
        case .unreadableFile(let path, let reason): "cannot read \(path): \(reason)"
        case .laneEnded(let reason): "the server stopped: \(reason)"
        }
    }
}
#endif
