/// Rendezvous, or highest-random-weight, hashing (Thaler and Ravishankar, 1998): every member
/// scores every key, and the highest score wins.
///
/// A join takes exactly the keys the newcomer now wins and a leave hands out exactly the
/// leaver's keys, so movement is ideal; no table is kept, at the price of O(N) work per lookup.
/// Weighted members use the logarithmic method (Schindelhauer and Schomaker, 2005): score
/// `w / −ln u` with `u` uniform in (0, 1), which gives each member a share proportional to `w`
/// while keeping movement minimal. The logarithm is Beacon's own (``NaturalLogarithm``), so the
/// weighted scores are bit-identical on every platform.
public struct RendezvousPlacer: ReplicaPlacer {
    public static let algorithmName = "rendezvous"

    @usableFromInline let table: MemberTable
    @usableFromInline let weights: [Double]
    @usableFromInline let uniform: Bool

    public var members: [PlacementMember] { table.members }
    public var keyHasher: KeyHasher { table.hasher }
    public var tableBytes: Int { table.count * 16 }

    /// Creates a rendezvous placer over `members`.
    ///
    /// - Throws: ``PlacementError`` for a duplicate, empty-named or badly weighted member.
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

    public func adding(_ member: PlacementMember) throws(PlacementError) -> RendezvousPlacer {
        var table = table
        try table.append(member)
        return RendezvousPlacer(validated: table)
    }

    public func removing(_ name: String) throws(PlacementError) -> RendezvousPlacer {
        var table = table
        try table.remove(named: name)
        return RendezvousPlacer(validated: table)
    }

    public func reweighting(_ name: String, to weight: Double) throws(PlacementError) -> RendezvousPlacer {
        var table = table
        try table.reweight(named: name, to: weight)
        return RendezvousPlacer(validated: table)
    }
}
