/// A node's liveness as the dispatcher records it (SwarmKit's `NodeStatus.State`).
public enum NodeState: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// Not heard from since this dispatcher started leading; it has a doubled grace to reconnect.
    case unknown = 0
    /// Missed its heartbeat deadline.
    case down = 1
    /// Registered and heartbeating.
    case ready = 2
    /// Told to find another manager.
    case disconnected = 3

    public var description: String {
        switch self {
        case .unknown: "unknown"
        case .down: "down"
        case .ready: "ready"
        case .disconnected: "disconnected"
        }
    }
}

/// A node's recorded liveness, with why and from where.
public struct NodeStatus: Sendable, Hashable {
    public var state: NodeState
    /// Why the state was set ("heartbeat failure", …); empty for a registration.
    public var message: String
    /// The address the node registered from; empty when unknown.
    public var address: String

    public init(state: NodeState, message: String = "", address: String = "") {
        self.state = state
        self.message = message
        self.address = address
    }
}

/// What a node reports about itself when it registers.
public struct NodeDescription: Sendable, Hashable {
    public var hostname: String
    /// Free-form facts (platform, engine version, resources) the orchestrator may use.
    public var attributes: [String: String]

    public init(hostname: String, attributes: [String: String] = [:]) {
        self.hostname = hostname
        self.attributes = attributes
    }
}

/// A node as the store holds it. Nodes exist before they register (SwarmKit creates them when
/// they join through the certificate authority); the dispatcher only updates their status and
/// description.
public struct Node: Sendable, Hashable {
    public let id: NodeID
    public var description: NodeDescription?
    public var status: NodeStatus
    /// Bumped by the store on every write.
    public var version: UInt64

    public init(
        id: NodeID, description: NodeDescription? = nil, status: NodeStatus = NodeStatus(state: .unknown),
        version: UInt64 = 0
    ) {
        self.id = id
        self.description = description
        self.status = status
        self.version = version
    }
}
