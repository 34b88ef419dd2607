/// One node's heartbeat as a relay forwards it: the node and the session it presents, for
/// `Dispatcher.heartbeat(batch:answer:)`.
public struct NodeHeartbeat: Hashable, Sendable {
    /// The node that beat.
    public var nodeID: NodeID
    /// The session the node presented.
    public var session: SessionID

    /// A heartbeat of `nodeID` through `session`.
    public init(nodeID: NodeID, session: SessionID) {
        self.nodeID = nodeID
        self.session = session
    }
}
