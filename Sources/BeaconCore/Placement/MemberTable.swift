/// The validated member list shared by every placer: names, weights and the names' hashes, with
/// the membership edits placers are built from. Index `i` in each array is member `i`.
@usableFromInline
struct MemberTable: Sendable {
    /// Beyond this, member indices stop fitting the compact 16/32-bit tables and builds take seconds.
    static let limit = 1 << 22

    @usableFromInline private(set) var members: [PlacementMember]
    /// `hasher.hash(name)` for each member: the member's stable identity in hash space.
    @usableFromInline private(set) var identities: [UInt64]
    private(set) var indexByName: [String: Int]
    let hasher: KeyHasher

    init(_ members: [PlacementMember], hasher: KeyHasher) throws(PlacementError) {
        self.members = []
        self.identities = []
        self.indexByName = [:]
        self.hasher = hasher
        self.members.reserveCapacity(members.count)
        self.identities.reserveCapacity(members.count)
        for member in members {
            try append(member)
        }
    }

    @usableFromInline var count: Int { members.count }
    var isUniformlyWeighted: Bool { members.allSatisfy { $0.weight == 1 } }
    var totalWeight: Double { members.reduce(0) { $0 + $1.weight } }

    func index(of name: String) throws(PlacementError) -> Int {
        guard let index = indexByName[name] else { throw .unknownMember(name) }
        return index
    }

    static func validate(_ member: PlacementMember) throws(PlacementError) {
        guard !member.name.isEmpty else { throw .emptyMemberName }
        guard member.weight > 0, member.weight <= PlacementMember.maximumWeight else {
            throw .invalidWeight(member: member.name, weight: member.weight)
        }
    }

    /// Throws unless every member has weight 1; for placers that place by position only.
    func requireUniformWeights(placer: String) throws(PlacementError) {
        if let heavy = members.first(where: { $0.weight != 1 }) {
            throw .weightsUnsupported(placer: placer, member: heavy.name, weight: heavy.weight)
        }
    }

    /// Validates a re-weight on a placer that places by position only: the member must exist and
    /// the weight must be valid and exactly 1.
    func requireUnitReweight(named name: String, to weight: Double, placer: String) throws(PlacementError) {
        _ = try index(of: name)
        try Self.validate(PlacementMember(name, weight: weight))
        guard weight == 1 else { throw .weightsUnsupported(placer: placer, member: name, weight: weight) }
    }

    mutating func append(_ member: PlacementMember) throws(PlacementError) {
        try Self.validate(member)
        guard indexByName[member.name] == nil else { throw .duplicateMember(member.name) }
        guard members.count < Self.limit else { throw .tooManyMembers(limit: Self.limit) }
        indexByName[member.name] = members.count
        members.append(member)
        identities.append(hasher.hash(member.name))
    }

    /// Removes a member, keeping the others in order.
    @discardableResult
    mutating func remove(named name: String) throws(PlacementError) -> Int {
        let index = try index(of: name)
        members.remove(at: index)
        identities.remove(at: index)
        indexByName[name] = nil
        for later in index..<members.count {
            indexByName[members[later].name] = later
        }
        return index
    }

    /// Removes a member by moving the last member into its index, so only two indices change.
    /// Jump hashing needs this: its buckets are positions, and only the last one can go cheaply.
    mutating func swapRemove(named name: String) throws(PlacementError) {
        let index = try index(of: name)
        indexByName[name] = nil
        let last = members.count - 1
        if index != last {
            members[index] = members[last]
            identities[index] = identities[last]
            indexByName[members[index].name] = index
        }
        members.removeLast()
        identities.removeLast()
    }

    mutating func reweight(named name: String, to weight: Double) throws(PlacementError) {
        let index = try index(of: name)
        try Self.validate(PlacementMember(name, weight: weight))
        members[index].weight = weight
    }
}
