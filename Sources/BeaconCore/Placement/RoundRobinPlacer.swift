public import Synchronization

/// Round robin, Fn's "naive" placer: ignores the key and hands out members in turn.
///
/// Perfect balance and no affinity at all: a key goes to a different member on every call. The
/// turn is one shared atomic counter (relaxed: only its own value matters), so the placer is
/// thread-safe; under heavy contention that counter's cache line is the cost. Placers derived
/// by a membership change share the counter and carry on the rotation.
public struct RoundRobinPlacer: Placer {
    public static let algorithmName = "round-robin"

    @usableFromInline
    final class Turn: Sendable {
        @usableFromInline let next = Atomic<UInt64>(0)
        init() {}
    }

    @usableFromInline let table: MemberTable
    @usableFromInline let turn: Turn

    public var members: [PlacementMember] { table.members }
    public var keyHasher: KeyHasher { table.hasher }
    public var tableBytes: Int { 8 }

    /// Creates a round-robin placer over `members`.
    public init(members: [PlacementMember], keyHasher: KeyHasher = .default) throws(PlacementError) {
        let table = try MemberTable(members, hasher: keyHasher)
        try table.requireUniformWeights(placer: Self.algorithmName)
        self.init(validated: table, turn: Turn())
    }

    init(validated table: MemberTable, turn: Turn) {
        self.table = table
        self.turn = turn
    }

    /// The next member in turn; `hash` is ignored.
    @inlinable
    public func memberIndex(forHash hash: UInt64) throws(PlacementError) -> Int {
        let count = table.count
        guard count > 0 else { throw .noMembers }
        return Int(turn.next.wrappingAdd(1, ordering: .relaxed).oldValue % UInt64(count))
    }

    public func adding(_ member: PlacementMember) throws(PlacementError) -> RoundRobinPlacer {
        var table = table
        try table.append(member)
        try table.requireUniformWeights(placer: Self.algorithmName)
        return RoundRobinPlacer(validated: table, turn: turn)
    }

    public func removing(_ name: String) throws(PlacementError) -> RoundRobinPlacer {
        var table = table
        try table.remove(named: name)
        return RoundRobinPlacer(validated: table, turn: turn)
    }

    public func reweighting(_ name: String, to weight: Double) throws(PlacementError) -> RoundRobinPlacer {
        try table.requireUnitReweight(named: name, to: weight, placer: Self.algorithmName)
        return self
    }
}
