import BeaconCore

/// Which manager holds each node when several dispatchers share one store: Beacon's
/// bounded-load table over the live managers, keyed by a hash of the node id that every process
/// computes alike.
///
/// Every manager holds at most ⌈its fair share⌉ of the table's slots, and nodes land on slots
/// uniformly, so each manager holds a third of the nodes (up to sampling noise) with three
/// managers. ``following(_:)`` moves the fewest slots a membership change needs: a manager that
/// joins takes its share from the others, one that leaves hands out only its own slots.
///
/// A change's result depends on the table it starts from, not only on the member set, so the
/// managers of a deployment share the table itself (``slotOwners`` restores it in another
/// process) rather than each building one from the members it sees.
///
/// ```swift
/// let managers = [
///     WeightedManager(nodeID: "m1", address: "10.0.0.1:4242"),
///     WeightedManager(nodeID: "m2", address: "10.0.0.2:4242"),
/// ]
/// let table = try ShardTable(managers: managers)
/// let grown = try table.following(managers + [WeightedManager(nodeID: "m3", address: "10.0.0.3:4242")])
/// let owner = grown.owner(of: try NodeID("node-7"))   // one of m1, m2, m3, the same in every process
/// ```
public struct ShardTable: Sendable, Equatable {
    /// The managers, in the table's member order (the indices ``slotOwners`` refers to).
    public let managers: [WeightedManager]
    /// Nil while no manager is live.
    private let placement: BoundedLoadTable?

    /// The table with no manager: no node is held. ``following(_:)`` grows it.
    public static let none = ShardTable(managers: [], placement: nil)

    private init(managers: [WeightedManager], placement: BoundedLoadTable?) {
        self.managers = managers
        self.placement = placement
    }

    /// A table for `managers` as if they had joined in id order: it depends only on their ids.
    ///
    /// - Throws: ``DispatcherError/invalidArgument(_:)`` for an empty or repeated manager id.
    public init(managers: [WeightedManager]) throws(DispatcherError) {
        self = try Self.none.following(managers.sorted { $0.nodeID < $1.nodeID })
    }

    /// Restores a table from ``managers`` and ``slotOwners`` as another process wrote them.
    ///
    /// - Throws: ``DispatcherError/invalidArgument(_:)`` for a bad manager id, an owner index out
    ///   of range, or owners that break the table's load bound.
    public init(managers: [WeightedManager], slotOwners: [Int]) throws(DispatcherError) {
        try Self.checkIDs(managers)
        guard !managers.isEmpty || !slotOwners.isEmpty else {
            self = .none
            return
        }
        let placement = try Self.placing { () throws(PlacementError) in
            try BoundedLoadTable(members: managers.map { PlacementMember($0.nodeID) }, slotOwners: slotOwners)
        }
        self.init(managers: managers, placement: placement)
    }

    /// The manager of each slot, as an index into ``managers``.
    public var slotOwners: [Int] { placement?.slotOwners ?? [] }

    /// How many slots each manager holds, in ``managers`` order.
    public var slotsPerManager: [Int] { placement?.slotsPerMember ?? [] }

    /// The manager that holds `node`; nil when the table has no manager.
    public func owner(of node: NodeID) -> WeightedManager? {
        guard let placement,
            let index = try? placement.memberIndex(forHash: placement.keyHasher.hash(node.rawValue))
        else { return nil }
        return managers[index]
    }

    /// The table for the live managers `live`, reached from this one with the fewest moves:
    /// managers no longer live leave (in id order), then the new ones join in the order `live`
    /// lists them. A leaver's slots go to the others and a joiner takes its share from them, and
    /// no other slot changes owner; a changed address or weight is taken as is. Two processes that apply the same `live` list to the same table get the same
    /// result, so list newcomers in an order every process sees alike (the order they joined).
    ///
    /// - Throws: ``DispatcherError/invalidArgument(_:)`` for an empty or repeated manager id.
    public func following(_ live: [WeightedManager]) throws(DispatcherError) -> ShardTable {
        try Self.checkIDs(live)
        let liveByID = Dictionary(uniqueKeysWithValues: live.map { ($0.nodeID, $0) })
        let known = Set(managers.map(\.nodeID))
        let placement = try Self.placing { () throws(PlacementError) -> BoundedLoadTable? in
            var placement = self.placement
            for leaver in managers.map(\.nodeID).sorted() where liveByID[leaver] == nil {
                placement = try placement?.removing(leaver)
            }
            if placement?.members.isEmpty == true { placement = nil }
            for joiner in live where !known.contains(joiner.nodeID) {
                let member = PlacementMember(joiner.nodeID)
                if let grown = placement {
                    placement = try grown.adding(member)
                } else {
                    placement = try BoundedLoadTable(members: [member])
                }
            }
            return placement
        }
        guard let placement else { return .none }
        return ShardTable(managers: Self.ordered(live, as: placement), placement: placement)
    }

    public static func == (lhs: ShardTable, rhs: ShardTable) -> Bool {
        lhs.managers == rhs.managers && lhs.slotOwners == rhs.slotOwners
    }

    /// `managers` in the order of the placement's members.
    private static func ordered(_ managers: [WeightedManager], as placement: BoundedLoadTable) -> [WeightedManager] {
        let byID = Dictionary(uniqueKeysWithValues: managers.map { ($0.nodeID, $0) })
        return placement.members.compactMap { byID[$0.name] }
    }

    private static func checkIDs(_ managers: [WeightedManager]) throws(DispatcherError) {
        var seen = Set<String>()
        for manager in managers {
            guard !manager.nodeID.isEmpty else { throw .invalidArgument("a manager id must not be empty") }
            guard seen.insert(manager.nodeID).inserted else {
                throw .invalidArgument("manager id \(manager.nodeID) appears twice")
            }
        }
    }

    private static func placing<Placement>(
        _ body: () throws(PlacementError) -> Placement
    ) throws(DispatcherError) -> Placement {
        do {
            return try body()
        } catch {
            throw .invalidArgument("shard table: \(error)")
        }
    }
}
