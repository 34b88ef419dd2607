public import Synchronization

/// Round robin, Fn's "naive" placer: ignores the key and hands out members in turn.
///
/// Perfect balance and no affinity at all: a key goes to a different member on every call. The
/// turn is one shared atomic counter (relaxed: only its own value matters), so the placer is
/// thread-safe; under heavy contention that counter's cache line is the cost. Placers derived
/// by a membership change share the counter and carry on the rotation.
public struct RoundRobinPlacer: Placer {
    /// The name reports use for this placer.
    ///
    /// - Complexity: O(1).
    public static let algorithmName = "round-robin"

    @usableFromInline
    final class Turn: Sendable {
        @usableFromInline let next = Atomic<UInt64>(0)
        init() {}
    }

    @usableFromInline let table: MemberTable
    @usableFromInline let turn: Turn

    /// The members, by index.
    ///
    /// - Complexity: O(1): the stored array is returned, not copied.
    public var members: [PlacementMember] { table.members }
    /// How keys and member names are hashed.
    ///
    /// - Complexity: O(1).
    public var keyHasher: KeyHasher { table.hasher }
    /// The shared turn counter: 8 bytes.
    ///
    /// - Complexity: O(1).
    public var tableBytes: Int { 8 }

    /// Creates a round-robin placer over `members`.
    ///
    /// - Complexity: O(n) expected for n members (each name is hashed and indexed once); O(n²) at
    ///   worst if the name index's hashing degenerates.
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
    ///
    /// - Complexity: O(1): one atomic increment of the shared turn counter, whose cache line is the
    ///   cost under contention.
    @inlinable
    public func memberIndex(forHash hash: UInt64) throws(PlacementError) -> Int {
        let count = table.count
        guard count > 0 else { throw .noMembers }
        return Int(turn.next.wrappingAdd(1, ordering: .relaxed).oldValue % UInt64(count))
    }

    /// A placer with `member` appended; it keeps the same turn counter.
    ///
    /// - Complexity: O(n) for n members: the member list and its name index are copied.
    public func adding(_ member: PlacementMember) throws(PlacementError) -> RoundRobinPlacer {
        var table = table
        try table.append(member)
        try table.requireUniformWeights(placer: Self.algorithmName)
        return RoundRobinPlacer(validated: table, turn: turn)
    }

    /// A placer without the member named `name`; it keeps the same turn counter.
    ///
    /// - Complexity: O(n) for n members: the member list is copied and the members after the
    ///   removed one are re-indexed.
    public func removing(_ name: String) throws(PlacementError) -> RoundRobinPlacer {
        var table = table
        try table.remove(named: name)
        return RoundRobinPlacer(validated: table, turn: turn)
    }

    /// This placer unchanged if `weight` is 1; round robin has no weights.
    ///
    /// - Complexity: O(1) expected: one lookup of the name; no copy.
    public func reweighting(_ name: String, to weight: Double) throws(PlacementError) -> RoundRobinPlacer {
        try table.requireUnitReweight(named: name, to: weight, placer: Self.algorithmName)
        return self
    }
}
