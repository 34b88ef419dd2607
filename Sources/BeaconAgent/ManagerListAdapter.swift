public import BeaconClient
public import BeaconDispatcher

/// Feeds the weighted manager list of a SwarmKit-style session (`SessionMessage.managers`) into
/// a `ServerManager`: managers that appeared are added (weight as their preference in a
/// rebalance), managers that disappeared are removed, and the front manager stays where it is
/// unless it left — the agent keeps its connection.
///
/// It lives with the agent, the one place that speaks both the dispatcher's session and the
/// client's server list, so the server list depends on neither the dispatcher nor gRPC; it needs
/// no gRPC itself and builds without the trait.
public struct ManagerListAdapter: Sendable {
    /// The list the sessions' manager lists are applied to.
    public let manager: ServerManager

    /// An adapter applying manager lists to `manager`.
    public init(feeding manager: ServerManager) {
        self.manager = manager
    }

    /// Applies one session message's manager list.
    ///
    /// - Throws: `ClientError.invalidServer(_:)` for a manager with an empty id or a weight
    ///   below 1; nothing is applied then.
    public func apply(_ managers: [WeightedManager]) throws(ClientError) {
        var servers: [ManagedServer] = []
        for weighted in managers {
            servers.append(
                try ManagedServer(name: weighted.nodeID, address: weighted.address, weight: Double(weighted.weight)))
        }
        // Adds first: removed first, a list that only changes its managers ([m1] to [m2]) would
        // be empty for a moment, and the agent's find() would come back with nothing.
        for server in servers { manager.add(server) }
        let listed = Set(servers.map(\.name))
        for current in manager.servers where !listed.contains(current.name) {
            manager.remove(named: current.name)
        }
    }

    /// Applies every session message's manager list as it arrives, until the session ends.
    public func follow(_ session: NodeSession) async throws {
        for try await message in session {
            try apply(message.managers)
        }
    }
}
