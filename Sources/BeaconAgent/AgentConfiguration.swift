#if GRPC
public import BeaconCore
public import BeaconDispatcher
import BeaconDispatcherAPI

/// What a ``NodeAgent`` needs: who it is, which managers to try first, and how patient to be.
public struct AgentConfiguration: Sendable {
    /// The node; over mutual TLS, the common name of the agent's certificate.
    public var node: NodeID
    public var description: NodeDescription?
    /// The address the node reports for itself; empty lets the manager use the connection's.
    public var address: String
    /// Manager addresses (`host:port`) to start from; the managers' own list replaces them once
    /// a session starts.
    public var managers: [String]
    /// Delay between attempts to open a session: doubles up to its maximum, jittered.
    public var backoff: Backoff
    /// Deadline of each unary call (heartbeat, status report).
    public var callTimeout: Duration
    /// Statuses per report.
    public var statusBatchLimit: Int
    /// The largest assignment diff the agent reads, in bytes. The agent tells its managers, and
    /// one whose own budget is larger cuts this node's messages to it (a task too large for it
    /// is left out of the node's assignments and counted by the manager as oversized). It also
    /// bounds a status report, and a manager that reads less says so when a session starts.
    public var assignmentByteBudget: Int
    /// Whether to follow the assignment stream (a load generator may leave it to a sample).
    public var followsAssignments: Bool
    /// How heartbeats travel: on a stream (the default), as unary calls, or as datagrams.
    public var heartbeatTransport: HeartbeatTransport

    /// SwarmKit's agent's back-off: from 100 ms, doubling up to 8 s.
    public static let defaultBackoff = try! Backoff(initial: .milliseconds(100), maximum: .seconds(8))

    /// Throws ``AgentError/invalidConfiguration(_:)`` for what ``validate()`` refuses.
    public init(
        node: NodeID, description: NodeDescription? = nil, address: String = "", managers: [String],
        backoff: Backoff = AgentConfiguration.defaultBackoff, callTimeout: Duration = .seconds(5),
        statusBatchLimit: Int = 1000,
        assignmentByteBudget: Int = AssignmentEncoder.defaultByteBudget, followsAssignments: Bool = true,
        heartbeatTransport: HeartbeatTransport = .stream
    ) throws(AgentError) {
        self.node = node
        self.description = description
        self.address = address
        self.managers = managers
        self.backoff = backoff
        self.callTimeout = callTimeout
        self.statusBatchLimit = statusBatchLimit
        self.assignmentByteBudget = assignmentByteBudget
        self.followsAssignments = followsAssignments
        self.heartbeatTransport = heartbeatTransport
        try validate()
    }

    /// Checks the settings; ``NodeAgent`` checks them again, since every one is a `var`.
    ///
    /// - Throws: ``AgentError/invalidConfiguration(_:)`` for no managers, a malformed manager
    ///   address, a non-positive timeout or batch limit, or a byte budget outside 1 KiB through
    ///   `AssignmentEncoder.maximumByteBudget`.
    public func validate() throws(AgentError) {
        guard !managers.isEmpty else { throw .invalidConfiguration("an agent needs at least one manager address") }
        for manager in managers { _ = try ManagerAddress(manager) }
        guard callTimeout > .zero else { throw .invalidConfiguration("the call timeout must be positive") }
        guard statusBatchLimit >= 1 else { throw .invalidConfiguration("the status batch limit must be at least 1") }
        guard (DispatcherWire.minimumMessageLimit...AssignmentEncoder.maximumByteBudget).contains(assignmentByteBudget)
        else {
            throw .invalidConfiguration(
                "an assignment byte budget of \(assignmentByteBudget) is outside 1 KiB...\(AssignmentEncoder.maximumByteBudget) bytes"
            )
        }
    }
}
#endif
