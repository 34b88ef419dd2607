/// Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, SODA 2018), table
/// form: a fixed number of slots, each owned by one member, so that no member owns more than
/// ⌈(1+ε)·average⌉ of them for any ε > 0 — and a lookup is a hash, a multiply-shift and one load.
///
/// The table keeps a stronger bound than the paper's: every member owns at most
/// `max(1, ⌈fair share⌉)` slots, where its fair share is `slots × weight / total weight`. Keys
/// land on slots uniformly, so the only imbalance left at the key level is the sampling noise
/// of the keys themselves — the same floor every static placer has.
///
/// Membership changes are incremental and move the fewest slots they can:
/// - a join takes the newcomer's share, one slot at a time, from the members furthest above
///   their new fair share;
/// - a leave hands the leaver's slots, one at a time, to the members furthest below theirs;
/// - a re-weight does whichever of the two applies.
/// No other slot changes owner, so the fraction of keys moved is the ideal `1/N` up to one slot
/// per member. The table starts with 128 slots per member and doubles when members outgrow
/// 100 per member; doubling splits each slot in two children of the same owner, which moves no key.
///
/// A table built from scratch depends only on the member set (not their order). After
/// incremental changes it also depends on the order of those changes: replay the same changes
/// to reproduce it, or call ``rebuilt()`` to get the canonical table for the current members.
public struct BoundedLoadTable: ReplicaPlacer {
    /// The name reports use for this placer.
    ///
    /// - Complexity: O(1).
    public static let algorithmName = "bounded-load"
    /// The fewest slots per member a table may have; below it, the table doubles.
    ///
    /// - Complexity: O(1).
    public static let minimumSlotsPerMember = 100
    /// Slots per member a new table is built with: the headroom above the minimum lets about 28 %
    /// more members join before the table has to double.
    ///
    /// - Complexity: O(1).
    public static let initialSlotsPerMember = 128
    static let minimumSlots = 1024

    @usableFromInline let table: MemberTable
    @usableFromInline let slots: CompactIndexTable
    /// Slots owned by each member.
    let slotCounts: [Int]

    /// The members, by index.
    ///
    /// - Complexity: O(1): the stored array is returned, not copied.
    public var members: [PlacementMember] { table.members }
    /// How keys and member names are hashed.
    ///
    /// - Complexity: O(1).
    public var keyHasher: KeyHasher { table.hasher }
    /// Bytes of the slot table: 2 or 4 per slot.
    ///
    /// - Complexity: O(1).
    public var tableBytes: Int { slots.bytes }
    /// The number of slots.
    ///
    /// - Complexity: O(1).
    public var slotCount: Int { slots.count }

    /// The number of slots each member owns, by member index.
    ///
    /// - Complexity: O(1): the stored array is returned, not copied.
    public var slotsPerMember: [Int] { slotCounts }

    /// Builds the table for `members`.
    ///
    /// - Throws: ``PlacementError`` for a duplicate, empty-named or badly weighted member.
    /// - Complexity: O(S + n log n) for n members and S = max(1 024, 128·n) slots: quotas and ring
    ///   order are sorted once, then each slot is given out through a union-find with path halving
    ///   (amortised nearly O(1) per slot).
    public init(members: [PlacementMember], keyHasher: KeyHasher = .default) throws(PlacementError) {
        self.init(build: try MemberTable(members, hasher: keyHasher))
    }

    private init(table: MemberTable, owners: [Int32], counts: [Int]) {
        self.init(unchecked: table, owners: owners, counts: counts)
        checkInvariants()
    }

    private init(unchecked table: MemberTable, owners: [Int32], counts: [Int]) {
        self.table = table
        self.slots = CompactIndexTable(owners, memberLimit: table.count)
        self.slotCounts = counts
    }

    /// Restores a table from the owner of each slot, as ``slotOwners`` gave them: how several
    /// processes share one table that evolved through incremental changes (which a build from the
    /// member set alone would not reproduce).
    ///
    /// - Throws: ``PlacementError`` for a duplicate, empty-named or badly weighted member, and
    ///   ``PlacementError/invalidTable(_:)`` when the owners break the table's bounds: an owner
    ///   out of range, a member with no slot or more than its cap, or too few slots per member.
    /// - Complexity: O(S + n) for S slots and n members.
    public init(
        members: [PlacementMember], slotOwners: [Int], keyHasher: KeyHasher = .default
    ) throws(PlacementError) {
        let table = try MemberTable(members, hasher: keyHasher)
        var counts = [Int](repeating: 0, count: table.count)
        var owners: [Int32] = []
        owners.reserveCapacity(slotOwners.count)
        for owner in slotOwners {
            guard counts.indices.contains(owner) else {
                throw .invalidTable("slot owner \(owner) is not a member index (0..<\(table.count))")
            }
            counts[owner] += 1
            owners.append(Int32(owner))
        }
        guard table.count > 0 else {
            self.init(build: table)
            return
        }
        let restored = BoundedLoadTable(unchecked: table, owners: owners, counts: counts)
        if let violation = restored.invariantViolation() { throw .invalidTable(violation) }
        self = restored
    }

    /// The owner (member index) of every slot, in slot order: what
    /// ``init(members:slotOwners:keyHasher:)`` restores the table from.
    ///
    /// - Complexity: O(S) for S slots.
    public var slotOwners: [Int] { (0..<slots.count).map { slots[$0] } }

    /// The canonical build: exact quotas (largest remainders, at least one slot each), and each
    /// slot given to the first member with quota left, walking the members in identity order
    /// from a point chosen by the slot's hash.
    private init(build table: MemberTable, slotCount requested: Int? = nil) {
        let n = table.count
        guard n > 0 else {
            self.init(table: table, owners: [], counts: [])
            return
        }
        let slotCount = requested ?? max(Self.minimumSlots, Self.initialSlotsPerMember * n)
        let quotas = Self.quotas(table, slotCount: slotCount)
        let ring = (0..<n).sorted { table.identities[$0] < table.identities[$1] }
        var remaining = ring.map { quotas[$0] }
        // nextOpen[p] leads to the first ring position at or after p whose member has quota left
        // (a union-find with path halving); position n stands for "wrap around".
        var nextOpen = Array(0...n)
        func find(_ start: Int) -> Int {
            var p = start
            while nextOpen[p] != p {
                nextOpen[p] = nextOpen[nextOpen[p]]
                p = nextOpen[p]
            }
            return p
        }
        var owners = [Int32](repeating: 0, count: slotCount)
        for slot in 0..<slotCount {
            var p = find(fastRange(mix(UInt64(slot), 0x736C_6F74), n))
            if p == n { p = find(0) }
            owners[slot] = Int32(ring[p])
            remaining[p] -= 1
            if remaining[p] == 0 { nextOpen[p] = p + 1 }
        }
        self.init(table: table, owners: owners, counts: quotas)
    }

    /// Each member's fair share of `slotCount` slots.
    static func fairShares(_ table: MemberTable, slotCount: Int) -> [Double] {
        let total = table.totalWeight
        return table.members.map { Double(slotCount) * $0.weight / total }
    }

    /// The most slots member `i` may own: its fair share rounded up, and at least one.
    static func caps(_ fair: [Double]) -> [Int] {
        fair.map { max(1, Int($0.rounded(.up))) }
    }

    /// Largest-remainder apportionment of `slotCount` slots, at least one per member.
    static func quotas(_ table: MemberTable, slotCount: Int) -> [Int] {
        let fair = fairShares(table, slotCount: slotCount)
        var quotas = fair.map { max(1, Int($0.rounded(.down))) }
        var left = slotCount - quotas.reduce(0, +)
        let order = fair.indices.sorted {
            let (ra, rb) = (fair[$0] - Double(quotas[$0]), fair[$1] - Double(quotas[$1]))
            return ra != rb ? ra > rb : table.identities[$0] < table.identities[$1]
        }
        var i = 0
        while left > 0 {
            quotas[order[i % order.count]] += 1
            left -= 1
            i += 1
        }
        // Raising tiny shares to one slot can overshoot; take the excess back from the members
        // furthest above their share.
        i = 0
        while left < 0 {
            let member = order[order.count - 1 - (i % order.count)]
            if quotas[member] > 1 {
                quotas[member] -= 1
                left += 1
            }
            i += 1
        }
        return quotas
    }

    /// The owner of the key's slot.
    ///
    /// - Complexity: O(1): one multiply-shift and one load.
    @inlinable
    public func memberIndex(forHash hash: UInt64) throws(PlacementError) -> Int {
        let count = slots.count
        guard count > 0 else { throw .noMembers }
        return slots[fastRange(hash, count)]
    }

    /// The owner of the key's slot, then the owners of the following slots, skipping repeats.
    ///
    /// - Complexity: O(r²) expected for r replicas while r is small against the n members: about r
    ///   slots are walked, each checked against the replicas found so far. O(S·r) at worst for S
    ///   slots.
    public func replicas(forHash hash: UInt64, into replicas: UnsafeMutableBufferPointer<Int>) throws(PlacementError) {
        try validateReplicaRequest(replicas.count, members: table.count)
        let count = slots.count
        var slot = fastRange(hash, count)
        var filled = 0
        while filled < replicas.count {
            let owner = slots[slot]
            if !contains(replicas, filled, owner) {
                replicas[filled] = owner
                filled += 1
            }
            slot += 1
            if slot == count { slot = 0 }
        }
    }

    /// The canonical table for the current members, as ``init(members:keyHasher:)`` would build it,
    /// with the current number of slots.
    ///
    /// - Complexity: O(S + n log n) for S slots and n members, as ``init(members:keyHasher:)``.
    public func rebuilt() -> BoundedLoadTable {
        BoundedLoadTable(build: table, slotCount: table.count == 0 ? nil : slots.count)
    }

    /// A table with `member` added: it takes its share of slots from the members furthest above
    /// theirs, and no other slot changes owner.
    ///
    /// - Complexity: O(S + n log n) for S slots (after any doubling) and n members: the slot table
    ///   is expanded and rewritten once, and the donors are chosen through a priority queue.
    public func adding(_ member: PlacementMember) throws(PlacementError) -> BoundedLoadTable {
        var grown = table
        try grown.append(member)
        guard table.count > 0 else { return BoundedLoadTable(build: grown) }
        var owners = slots.expanded()
        var counts = slotCounts
        while owners.count < Self.minimumSlotsPerMember * grown.count {
            var doubled: [Int32] = []
            doubled.reserveCapacity(owners.count * 2)
            for owner in owners {
                doubled.append(owner)
                doubled.append(owner)
            }
            owners = doubled
            counts = counts.map { $0 * 2 }
        }
        counts.append(0)
        let newcomer = grown.count - 1
        let fair = Self.fairShares(grown, slotCount: owners.count)
        let wanted = max(1, Int(fair[newcomer].rounded()))
        let takes = Self.donations(
            wanted, fair: fair, counts: counts, identities: grown.identities, excluding: newcomer)
        Self.move(takes, to: Array(repeating: newcomer, count: wanted), owners: &owners, counts: &counts)
        Self.enforceCaps(fair: fair, identities: grown.identities, owners: &owners, counts: &counts)
        return BoundedLoadTable(table: grown, owners: owners, counts: counts)
    }

    /// A table without the member named `name`: its slots go to the members furthest below their
    /// share, and no other slot changes owner.
    ///
    /// - Complexity: O(S + n log n) for S slots and n members: the slot table is expanded and
    ///   rewritten once, and the receivers are chosen through a priority queue.
    public func removing(_ name: String) throws(PlacementError) -> BoundedLoadTable {
        let leaver = try table.index(of: name)
        var shrunk = table
        try shrunk.swapRemove(named: name)
        guard shrunk.count > 0 else { return BoundedLoadTable(build: shrunk) }
        var owners = slots.expanded()
        var counts = slotCounts
        // Fair shares over the remaining members, indexed as before the removal.
        var remainingWeights = table.members.map(\.weight)
        remainingWeights[leaver] = 0
        let total = remainingWeights.reduce(0, +)
        let fair = remainingWeights.map { Double(owners.count) * $0 / total }
        var takes = [Int](repeating: 0, count: counts.count)
        takes[leaver] = counts[leaver]
        let receivers = Self.receivers(
            counts[leaver], fair: fair, counts: counts, identities: table.identities, excluding: leaver)
        Self.move(takes, to: receivers, owners: &owners, counts: &counts)
        // The last member takes the leaver's index.
        let last = table.count - 1
        if leaver != last {
            for slot in owners.indices where owners[slot] == Int32(last) {
                owners[slot] = Int32(leaver)
            }
            counts[leaver] = counts[last]
        }
        counts.removeLast()
        return BoundedLoadTable(table: shrunk, owners: owners, counts: counts)
    }

    /// A table where the member named `name` has weight `weight`, with the fewest slot moves that
    /// restore every member's bound.
    ///
    /// - Complexity: O(S + n log n) for S slots and n members: the slot table is expanded and
    ///   rewritten once, and donors or receivers are chosen through a priority queue.
    public func reweighting(_ name: String, to weight: Double) throws(PlacementError) -> BoundedLoadTable {
        let member = try table.index(of: name)
        var reweighted = table
        try reweighted.reweight(named: name, to: weight)
        var owners = slots.expanded()
        var counts = slotCounts
        let fair = Self.fairShares(reweighted, slotCount: owners.count)
        let wanted = max(1, Int(fair[member].rounded()))
        if wanted > counts[member] {
            let gain = wanted - counts[member]
            let takes = Self.donations(
                gain, fair: fair, counts: counts, identities: table.identities, excluding: member)
            Self.move(takes, to: Array(repeating: member, count: gain), owners: &owners, counts: &counts)
        } else if wanted < counts[member] {
            let loss = counts[member] - wanted
            var takes = [Int](repeating: 0, count: counts.count)
            takes[member] = loss
            let receivers = Self.receivers(
                loss, fair: fair, counts: counts, identities: table.identities, excluding: member)
            Self.move(takes, to: receivers, owners: &owners, counts: &counts)
        }
        Self.enforceCaps(fair: fair, identities: table.identities, owners: &owners, counts: &counts)
        return BoundedLoadTable(table: reweighted, owners: owners, counts: counts)
    }

    /// How many slots each member gives up so that `total` slots are freed, always taking the
    /// next one from the member furthest above its fair share (and never a member's last slot).
    static func donations(
        _ total: Int,
        fair: [Double],
        counts: [Int],
        identities: [UInt64],
        excluding excluded: Int
    ) -> [Int] {
        var takes = [Int](repeating: 0, count: counts.count)
        var queue = MemberPriorityQueue()
        for i in counts.indices where i != excluded && counts[i] > 1 {
            queue.insert(i, priority: Double(counts[i]) - fair[i], identity: identities[i])
        }
        var left = total
        while left > 0, let top = queue.popMax() {
            takes[top.member] += 1
            left -= 1
            if counts[top.member] - takes[top.member] > 1 {
                queue.insert(top.member, priority: top.priority - 1, identity: top.identity)
            }
        }
        return takes
    }

    /// Which members receive `total` freed slots, one at a time, always the member furthest
    /// below its fair share; returned as one entry per slot.
    static func receivers(
        _ total: Int,
        fair: [Double],
        counts: [Int],
        identities: [UInt64],
        excluding excluded: Int
    ) -> [Int] {
        var queue = MemberPriorityQueue()
        for i in counts.indices where i != excluded {
            queue.insert(i, priority: fair[i] - Double(counts[i]), identity: identities[i])
        }
        var result: [Int] = []
        result.reserveCapacity(total)
        while result.count < total, let top = queue.popMax() {
            result.append(top.member)
            queue.insert(top.member, priority: top.priority - 1, identity: top.identity)
        }
        return result
    }

    /// Hands `takes[m]` slots of each member `m` to `receivers`, in slot order.
    static func move(_ takes: [Int], to receivers: [Int], owners: inout [Int32], counts: inout [Int]) {
        var takes = takes
        var next = 0
        for slot in owners.indices where next < receivers.count {
            let owner = Int(owners[slot])
            guard takes[owner] > 0 else { continue }
            takes[owner] -= 1
            counts[owner] -= 1
            let receiver = receivers[next]
            owners[slot] = Int32(receiver)
            counts[receiver] += 1
            next += 1
        }
    }

    /// Moves slots from any member above `max(1, ⌈fair⌉)` to the members furthest below their
    /// share. Rarely needed: only when a join or re-weight lowered many shares at once.
    static func enforceCaps(fair: [Double], identities: [UInt64], owners: inout [Int32], counts: inout [Int]) {
        let caps = caps(fair)
        var takes = [Int](repeating: 0, count: counts.count)
        var excess = 0
        for i in counts.indices where counts[i] > caps[i] {
            takes[i] = counts[i] - caps[i]
            excess += takes[i]
        }
        guard excess > 0 else { return }
        let receivers = receivers(excess, fair: fair, counts: counts, identities: identities, excluding: -1)
        move(takes, to: receivers, owners: &owners, counts: &counts)
    }
}
