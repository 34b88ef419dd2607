/// Rendezvous, or highest-random-weight, hashing (Thaler and Ravishankar, 1998): every member
/// scores every key, and the highest score wins.
///
/// A join takes exactly the keys the newcomer now wins and a leave hands out exactly the
/// leaver's keys, so movement is ideal; no table is kept, at the price of O(N) work per lookup.
/// Weighted members use the logarithmic method (Schindelhauer and Schomaker, 2005): score
/// `w / −ln u` with `u` uniform in (0, 1), which gives each member a share proportional to `w`
/// while keeping movement minimal. The logarithm is Beacon's own (`NaturalLogarithm`), so the
/// weighted scores are bit-identical on every platform.
public struct RendezvousPlacer: ReplicaPlacer {
    /// The name reports use for this placer.
    ///
    /// - Complexity: O(1).
    public static let algorithmName = "rendezvous"

    @usableFromInline let table: MemberTable
    @usableFromInline let weights: [Double]
    @usableFromInline let uniform: Bool

    /// The members, by index.
    ///
    /// - Complexity: O(1): the stored array is returned, not copied.
    public var members: [PlacementMember] { table.members }
    /// How keys and member names are hashed.
    ///
    /// - Complexity: O(1).
    public var keyHasher: KeyHasher { table.hasher }
    /// Bytes of the members' identities and weights: 16 per member.
    ///
    /// - Complexity: O(1).
    public var tableBytes: Int { table.count * 16 }

    /// Creates a rendezvous placer over `members`.
    ///
    /// - Throws: ``PlacementError`` for a duplicate, empty-named or badly weighted member.
    /// - Complexity: O(n) expected for n members (each name is hashed and indexed once); O(n²) at
    ///   worst if the name index's hashing degenerates.
    public init(members: [PlacementMember], keyHasher: KeyHasher = .default) throws(PlacementError) {
        self.init(validated: try MemberTable(members, hasher: keyHasher))
    }

    init(validated table: MemberTable) {
        self.table = table
        self.weights = table.members.map(\.weight)
        self.uniform = table.isUniformlyWeighted
    }

    /// The weighted score: `w / −ln u`, with `u` taken from the top 53 bits of the raw score.
    @inlinable @inline(__always)
    func weightedScore(_ raw: UInt64, weight: Double) -> Double {
        let u = (Double(raw >> 11) + 0.5) * 0x1p-53
        return weight / -NaturalLogarithm.of(u)
    }

    /// The member with the highest score for `hash`.
    ///
    /// - Complexity: O(n) for n members, always: every member is scored.
    @inlinable
    public func memberIndex(forHash hash: UInt64) throws(PlacementError) -> Int {
        let count = table.count
        guard count > 0 else { throw .noMembers }
        var best = 0
        if uniform {
            var bestScore = mix(hash, table.identities[0])
            for i in 1..<count {
                let score = mix(hash, table.identities[i])
                if score > bestScore {
                    bestScore = score
                    best = i
                }
            }
        } else {
            var bestScore = weightedScore(mix(hash, table.identities[0]), weight: weights[0])
            for i in 1..<count {
                let score = weightedScore(mix(hash, table.identities[i]), weight: weights[i])
                if score > bestScore {
                    bestScore = score
                    best = i
                }
            }
        }
        return best
    }

    /// The `replicas.count` members with the highest scores for `hash`, best first.
    ///
    /// - Complexity: O(n + r² log n) expected for r replicas over n members: every member is scored
    ///   once, and the best-r window changes O(r log n) times, each an insertion of up to r steps.
    ///   O(n·r) at worst.
    public func replicas(forHash hash: UInt64, into replicas: UnsafeMutableBufferPointer<Int>) throws(PlacementError) {
        try validateReplicaRequest(replicas.count, members: table.count)
        if uniform {
            topScores(into: replicas) { mix(hash, table.identities[$0]) }
        } else {
            topScores(into: replicas) { weightedScore(mix(hash, table.identities[$0]), weight: weights[$0]) }
        }
    }

    /// Keeps the `replicas.count` best-scoring members, best first, by insertion into a small
    /// sorted window; the scores sit in a temporary buffer, on the stack for small sets.
    @inlinable
    func topScores<Score: Comparable>(
        into replicas: UnsafeMutableBufferPointer<Int>,
        score: (Int) -> Score
    ) {
        let wanted = replicas.count
        withUnsafeTemporaryAllocation(of: Score.self, capacity: wanted) { scores in
            var filled = 0
            for member in 0..<table.count {
                let s = score(member)
                if filled == wanted && s <= scores[filled - 1] { continue }
                var position = filled == wanted ? wanted - 1 : filled
                if filled < wanted {
                    scores.initializeElement(at: filled, to: s)
                    filled += 1
                }
                while position > 0 && scores[position - 1] < s {
                    scores[position] = scores[position - 1]
                    replicas[position] = replicas[position - 1]
                    position -= 1
                }
                scores[position] = s
                replicas[position] = member
            }
            _ = scores.baseAddress.map { $0.deinitialize(count: filled) }
        }
    }

    /// A placer with `member` added; only the keys it now wins move.
    ///
    /// - Complexity: O(n) for n members: the member list and its name index are copied.
    public func adding(_ member: PlacementMember) throws(PlacementError) -> RendezvousPlacer {
        var table = table
        try table.append(member)
        return RendezvousPlacer(validated: table)
    }

    /// A placer without the member named `name`; only its keys move.
    ///
    /// - Complexity: O(n) for n members: the member list is copied and the members after the
    ///   removed one are re-indexed.
    public func removing(_ name: String) throws(PlacementError) -> RendezvousPlacer {
        var table = table
        try table.remove(named: name)
        return RendezvousPlacer(validated: table)
    }

    /// A placer where the member named `name` has weight `weight`.
    ///
    /// - Complexity: O(n) for n members: the member list and its name index are copied.
    public func reweighting(_ name: String, to weight: Double) throws(PlacementError) -> RendezvousPlacer {
        var table = table
        try table.reweight(named: name, to: weight)
        return RendezvousPlacer(validated: table)
    }
}
