/// The classic consistent-hash ring (Karger et al., 1997) with virtual nodes, looked up through
/// a prefix index instead of a binary search.
///
/// Each member puts `virtualNodes × weight / mean weight` points (at least one) on a 64-bit
/// ring; a key belongs to the first point at or after its hash. The points are kept sorted in
/// flat arrays, and a direct-mapped index on the top bits of the hash (about one bucket per
/// point) jumps to the right neighbourhood, so a lookup is one index load and, on average, one
/// or two comparisons — O(1) expected instead of O(log P).
public struct RingPlacer: ReplicaPlacer {
    /// The name reports use for this placer.
    ///
    /// - Complexity: O(1).
    public static let algorithmName = "ring"

    /// The default number of points per member of mean weight.
    ///
    /// - Complexity: O(1).
    public static let defaultVirtualNodes = 160

    @usableFromInline let table: MemberTable
    @usableFromInline let virtualNodes: Int
    @usableFromInline let positions: [UInt64]
    @usableFromInline let owners: [UInt32]
    /// `index[p]` is the first point whose position's top bits are ≥ `p`.
    @usableFromInline let index: [UInt32]
    @usableFromInline let indexShift: UInt64

    /// The members, by index.
    ///
    /// - Complexity: O(1): the stored array is returned, not copied.
    public var members: [PlacementMember] { table.members }
    /// How keys and member names are hashed.
    ///
    /// - Complexity: O(1).
    public var keyHasher: KeyHasher { table.hasher }
    /// Bytes of the sorted points (position and owner) and the prefix index.
    ///
    /// - Complexity: O(1).
    public var tableBytes: Int { positions.count * 12 + index.count * 4 }
    /// The number of points on the ring.
    ///
    /// - Complexity: O(1).
    public var pointCount: Int { positions.count }

    /// Creates a ring over `members` with `virtualNodes` points per member of mean weight.
    ///
    /// - Throws: ``PlacementError`` for a bad member or `virtualNodes` outside `1...65_536`.
    /// - Complexity: O(P log P) for P = about `virtualNodes` × n points over n members: the points
    ///   are sorted once, then the prefix index (at most 2P entries) is filled in one pass.
    public init(
        members: [PlacementMember],
        virtualNodes: Int = RingPlacer.defaultVirtualNodes,
        keyHasher: KeyHasher = .default
    ) throws(PlacementError) {
        guard (1...65_536).contains(virtualNodes) else {
            throw .invalidParameter(name: "virtualNodes", value: virtualNodes, allowed: 1...65_536)
        }
        try self.init(validated: MemberTable(members, hasher: keyHasher), virtualNodes: virtualNodes)
    }

    init(validated table: MemberTable, virtualNodes: Int) throws(PlacementError) {
        self.table = table
        self.virtualNodes = virtualNodes
        let pointCounts = Self.pointCounts(table, virtualNodes: virtualNodes)
        let total = pointCounts.reduce(0, +)
        guard total <= Int(UInt32.max) else { throw .tooManyMembers(limit: table.count - 1) }
        var points: [(position: UInt64, identity: UInt64, owner: UInt32)] = []
        points.reserveCapacity(total)
        for member in 0..<table.count {
            let identity = table.identities[member]
            for v in 0..<pointCounts[member] {
                points.append((mix(identity, UInt64(v) &* 0x9E37_79B9_7F4A_7C15), identity, UInt32(member)))
            }
        }
        // Ties on position are broken by member identity, never by index, so the ring does not
        // depend on the order members were given in.
        points.sort { ($0.position, $0.identity) < ($1.position, $1.identity) }
        positions = points.map(\.position)
        owners = points.map(\.owner)
        let bits = total <= 1 ? 0 : min(Int.bitWidth - (total - 1).leadingZeroBitCount, 24)
        indexShift = UInt64(64 - bits)
        var index = [UInt32](repeating: 0, count: (1 << bits) + 1)
        var point = 0
        for prefix in 0..<(1 << bits) {
            while point < total && (bits == 0 ? 0 : Int(positions[point] >> UInt64(64 - bits))) < prefix {
                point += 1
            }
            index[prefix] = UInt32(point)
        }
        index[1 << bits] = UInt32(total)
        self.index = index
    }

    static func pointCounts(_ table: MemberTable, virtualNodes: Int) -> [Int] {
        let mean = table.count == 0 ? 1 : table.totalWeight / Double(table.count)
        return table.members.map { max(1, Int((Double(virtualNodes) * $0.weight / mean).rounded())) }
    }

    /// The first point at or after `hash`, wrapping to point 0.
    @inlinable @inline(__always)
    func successor(of hash: UInt64) -> Int {
        var point = Int(index[Int(truncatingIfNeeded: indexShift == 64 ? 0 : hash >> indexShift)])
        let count = positions.count
        while point < count && positions[point] < hash {
            point += 1
        }
        return point == count ? 0 : point
    }

    /// The owner of the first point at or after `hash`.
    ///
    /// - Complexity: O(1) expected: one prefix-index load and, on average, one or two comparisons.
    ///   O(P) at worst for P points, if many points share one prefix.
    @inlinable
    public func memberIndex(forHash hash: UInt64) throws(PlacementError) -> Int {
        guard !positions.isEmpty else { throw .noMembers }
        return Int(owners[successor(of: hash)])
    }

    /// The owner of the key's point, then the owners of the following points, skipping repeats.
    ///
    /// - Complexity: O(r²) expected for r replicas while r is small against the n members: about r
    ///   points are walked, each checked against the replicas found so far. O(P·r) at worst for P
    ///   points.
    public func replicas(forHash hash: UInt64, into replicas: UnsafeMutableBufferPointer<Int>) throws(PlacementError) {
        try validateReplicaRequest(replicas.count, members: table.count)
        var point = successor(of: hash)
        var filled = 0
        while filled < replicas.count {
            let owner = Int(owners[point])
            if !contains(replicas, filled, owner) {
                replicas[filled] = owner
                filled += 1
            }
            point += 1
            if point == positions.count { point = 0 }
        }
    }

    /// The index of the member owning the point at `position`; the bounded-load walk uses it.
    @inlinable
    func owner(atPoint point: Int) -> Int { Int(owners[point]) }

    /// A ring with `member`'s points added; only keys on its new points move.
    ///
    /// - Complexity: O(P log P) for the new ring of P points: it is rebuilt.
    public func adding(_ member: PlacementMember) throws(PlacementError) -> RingPlacer {
        var table = table
        try table.append(member)
        return try RingPlacer(validated: table, virtualNodes: virtualNodes)
    }

    /// A ring without the member named `name`; only the keys on its points move.
    ///
    /// - Complexity: O(P log P) for the new ring of P points: it is rebuilt.
    public func removing(_ name: String) throws(PlacementError) -> RingPlacer {
        var table = table
        try table.remove(named: name)
        return try RingPlacer(validated: table, virtualNodes: virtualNodes)
    }

    /// A ring where the member named `name` has weight `weight`, and a matching share of the
    /// points.
    ///
    /// - Complexity: O(P log P) for the new ring of P points: it is rebuilt.
    public func reweighting(_ name: String, to weight: Double) throws(PlacementError) -> RingPlacer {
        var table = table
        try table.reweight(named: name, to: weight)
        return try RingPlacer(validated: table, virtualNodes: virtualNodes)
    }
}
