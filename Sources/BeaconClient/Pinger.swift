/// Checks that a server answers; a rebalance pings the front server until one does.
public protocol Pinger: Sendable {
    func ping(_ server: ManagedServer) async -> Bool
}

/// How many nodes the cluster has; scales the rebalance interval (Consul's `NumNodes`).
public protocol ClusterInfo: Sendable {
    var nodeCount: Int { get }
}
