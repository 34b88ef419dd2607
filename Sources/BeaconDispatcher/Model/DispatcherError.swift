/// Everything the dispatcher refuses, matching SwarmKit's error list (each case notes the gRPC
/// code a network service should map it to).
public enum DispatcherError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The dispatcher is not running (gRPC Aborted).
    case stopped
    /// The node has no registration here: it never registered, or its heartbeat expired (gRPC
    /// NotFound). The node should open a new session.
    case nodeNotRegistered
    /// The session id is not the node's current one: empty, superseded by a newer registration,
    /// or from before a leadership change (gRPC InvalidArgument).
    case sessionInvalid
    /// The store has no such node; nodes must exist before they register (gRPC NotFound).
    case nodeNotFound(String)
    /// The node registered too often within the rate-limit window (gRPC Unavailable).
    case rateLimited(node: String, attempts: Int, window: Duration)
    /// The caller may not do this, e.g. report status for another node's task (gRPC
    /// PermissionDenied).
    case permissionDenied(String)
    /// A configuration value is out of range.
    case invalidConfiguration(String)
    /// An argument is malformed (gRPC InvalidArgument).
    case invalidArgument(String)
    /// `run` on a dispatcher that is running.
    case alreadyRunning
    /// The node table is full (gRPC ResourceExhausted): `maximumNodes` nodes are registered or
    /// UNKNOWN, or, for a node carried over as UNKNOWN, `maximumNodes` hold sessions.
    case capacityExhausted(Int)
    /// The store refused a write (gRPC Unavailable).
    case storeFailure(String)
    /// Another manager holds the node in a sharded deployment (see ``DispatcherShard``): the
    /// node should open its session with `owner`, or with any other manager when `owner` is nil
    /// because no live manager holds it yet (gRPC FailedPrecondition).
    case wrongManager(node: String, owner: WeightedManager?)
    /// The node's assignment stream ended because its reader fell behind: more than `limit` of
    /// INCREMENTAL messages waited for it (``DispatcherConfiguration/assignmentBacklogLimit``).
    /// Nothing was lost: the node opens the stream again and gets a COMPLETE set (gRPC
    /// ResourceExhausted).
    case assignmentsBehind(limit: Int)

    /// Where a network service puts the owning manager's id of a
    /// ``wrongManager(node:owner:)`` answer, beside its status (gRPC metadata).
    public static let ownerIDMetadataKey = "beacon-owner-id"
    /// Where a network service puts the owning manager's address of a
    /// ``wrongManager(node:owner:)`` answer.
    public static let ownerAddressMetadataKey = "beacon-owner-address"
    /// Where a network service marks an ``assignmentsBehind(limit:)`` answer (the limit, in
    /// bytes), so an agent tells it from a ResourceExhausted its own transport raised.
    public static let assignmentsBehindMetadataKey = "beacon-assignments-behind"

    public var description: String {
        switch self {
        case .stopped: "dispatcher is stopped"
        case .nodeNotRegistered: "node not registered"
        case .sessionInvalid: "session invalid"
        case .nodeNotFound(let node): "node \(node) not found"
        case .rateLimited(let node, let attempts, let window):
            "node \(node) exceeded rate limit count of registrations (\(attempts) within \(window))"
        case .permissionDenied(let reason): "permission denied: \(reason)"
        case .invalidConfiguration(let reason): "invalid dispatcher configuration: \(reason)"
        case .invalidArgument(let reason): "invalid argument: \(reason)"
        case .alreadyRunning: "dispatcher is already running"
        case .capacityExhausted(let capacity): "dispatcher holds its maximum of \(capacity) registered nodes"
        case .storeFailure(let reason): "store write failed: \(reason)"
        case .wrongManager(let node, let owner?):
            "node \(node) is held by manager \(owner.nodeID) at \(owner.address): open the session there"
        case .wrongManager(let node, nil): "no live manager holds node \(node) yet: try again"
        case .assignmentsBehind(let limit):
            "the node read its assignments too slowly (more than its limit of \(limit) bytes waited): open the stream again for a complete set"
        }
    }
}
