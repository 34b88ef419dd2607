/// Maglev hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
/// Balancer", NSDI 2016): a lookup table of prime size M ≥ 100·N filled from per-member
/// permutations, so every member owns ⌊M/N⌋ or ⌈M/N⌉ entries and a lookup is one load.
///
/// Entries are 2 bytes while N ≤ 65 536. The key's slot is found with a multiply-shift
/// (Lemire's fast range) rather than `hash % M`, avoiding a 64-bit division on every lookup;
/// the permutations still use M's primality. M is chosen with room to grow (the smallest prime
/// ≥ 128·N) and kept across membership changes while it stays ≥ 100·N, because a new M sends
/// every key to another entry; only outgrowing it picks a new M. A membership change refills
/// the table, which moves a little more than the ideal share of keys (the paper's trade-off for
/// perfect balance). Weights are not supported.
public struct MaglevPlacer: Placer {
    /// The name reports use for this placer.
    ///
    /// - Complexity: O(1).
    public static let algorithmName = "maglev"

    @usableFromInline let table: MemberTable
    @usableFromInline let lookup: CompactIndexTable

    /// The members, by index.
    ///
    /// - Complexity: O(1): the stored array is returned, not copied.
    public var members: [PlacementMember] { table.members }
    /// How keys and member names are hashed.
    ///
    /// - Complexity: O(1).
    public var keyHasher: KeyHasher { table.hasher }
    /// Bytes of the lookup table: 2 or 4 per entry.
    ///
    /// - Complexity: O(1).
    public var tableBytes: Int { lookup.bytes }
    /// M, the prime number of table entries.
    ///
    /// - Complexity: O(1).
    public var tableSize: Int { lookup.count }

    /// Creates a Maglev table over `members`.
    ///
    /// - Throws: ``PlacementError`` for a duplicate, empty-named or non-unit-weight member.
    /// - Complexity: O(M log M) expected for the table of M ≈ 128·n entries over n members: filling
    ///   from the members' permutations probes about M log M entries, as in the Maglev paper. O(M²)
    ///   at worst.
    public init(members: [PlacementMember], keyHasher: KeyHasher = .default) throws(PlacementError) {
        let table = try MemberTable(members, hasher: keyHasher)
        try table.requireUniformWeights(placer: Self.algorithmName)
        self.init(validated: table, previousSize: nil)
    }

    init(validated table: MemberTable, previousSize: Int?) {
        self.table = table
        let n = table.count
        guard n > 0 else {
            lookup = CompactIndexTable([], memberLimit: 0)
            return
        }
        let size =
            if let previousSize, previousSize >= 100 * n {
                previousSize
            } else {
                Self.smallestPrime(atLeast: max(128 * n, 101))
            }
        var offsets = [Int](repeating: 0, count: n)
        var skips = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let identity = table.identities[i]
            offsets[i] = Int(mix(identity, 0x6F66_6673_6574) % UInt64(size))
            skips[i] = Int(mix(identity, 0x736B_6970) % UInt64(size - 1)) + 1
        }
        var entries = [Int32](repeating: -1, count: size)
        var filled = 0
        // next[i]: the position in member i's permutation it will try next, kept as the slot itself
        // so each step is an addition and a conditional subtraction, not a multiply and a modulo.
        var next = offsets
        fill: while true {
            for i in 0..<n {
                var slot = next[i]
                while entries[slot] >= 0 {
                    slot += skips[i]
                    if slot >= size { slot -= size }
                }
                entries[slot] = Int32(i)
                slot += skips[i]
                if slot >= size { slot -= size }
                next[i] = slot
                filled += 1
                if filled == size { break fill }
            }
        }
        lookup = CompactIndexTable(entries, memberLimit: n)
    }

    static func smallestPrime(atLeast lower: Int) -> Int {
        var candidate = lower | 1
        while !isPrime(candidate) { candidate += 2 }
        return candidate
    }

    static func isPrime(_ n: Int) -> Bool {
        if n < 2 { return false }
        if n % 2 == 0 { return n == 2 }
        var divisor = 3
        while divisor * divisor <= n {
            if n % divisor == 0 { return false }
            divisor += 2
        }
        return true
    }

    /// The owner of the key's table entry.
    ///
    /// - Complexity: O(1): one multiply-shift and one load.
    @inlinable
    public func memberIndex(forHash hash: UInt64) throws(PlacementError) -> Int {
        let size = lookup.count
        guard size > 0 else { throw .noMembers }
        return lookup[fastRange(hash, size)]
    }

    /// A placer with `member` added; the table keeps its size M while M ≥ 100·n, and is refilled.
    ///
    /// - Complexity: O(M log M) expected for M entries (the refill); O(M²) at worst.
    public func adding(_ member: PlacementMember) throws(PlacementError) -> MaglevPlacer {
        var table = table
        try table.append(member)
        try table.requireUniformWeights(placer: Self.algorithmName)
        return MaglevPlacer(validated: table, previousSize: lookup.count == 0 ? nil : lookup.count)
    }

    /// A placer without the member named `name`, its table refilled at the same size.
    ///
    /// - Complexity: O(M log M) expected for M entries (the refill); O(M²) at worst.
    public func removing(_ name: String) throws(PlacementError) -> MaglevPlacer {
        var table = table
        try table.remove(named: name)
        return MaglevPlacer(validated: table, previousSize: lookup.count == 0 ? nil : lookup.count)
    }

    /// This placer unchanged if `weight` is 1; Maglev has no weights.
    ///
    /// - Complexity: O(1) expected: one lookup of the name; no copy.
    public func reweighting(_ name: String, to weight: Double) throws(PlacementError) -> MaglevPlacer {
        try table.requireUnitReweight(named: name, to: weight, placer: Self.algorithmName)
        return self
    }
}
