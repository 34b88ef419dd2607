/// One dispatcher's part of a sharded deployment: the table every manager shares, and which of
/// its managers this dispatcher is.
///
/// A dispatcher given a shard (``Dispatcher/updateShard(_:)``) holds sessions, heartbeats and
/// assignment streams only for the nodes the table gives its manager. A node that reaches it
/// anyway is refused with ``DispatcherError/wrongManager(node:owner:)``, which names the owner.
/// A manager missing from the table holds no node.
public struct DispatcherShard: Sendable, Equatable {
    /// The table every manager of the deployment shares.
    public var table: ShardTable
    /// This dispatcher's manager id.
    public var manager: String

    /// The part of `table` that manager `manager` holds.
    public init(table: ShardTable, manager: String) {
        self.table = table
        self.manager = manager
    }

    /// Whether this dispatcher holds `node`.
    public func holds(_ node: NodeID) -> Bool {
        table.owner(of: node)?.nodeID == manager
    }

    /// The manager list sessions carry: this manager first (it holds every node it has a
    /// session with), then the others in table order, so a node that loses its session asks
    /// the others next.
    var sessionManagers: [WeightedManager] {
        table.managers.filter { $0.nodeID == manager } + table.managers.filter { $0.nodeID != manager }
    }
}
