// Public because `bucket(for:buckets:)` is inlinable and calls its loop in C.
public import BeaconSystemShims

/// Jump consistent hashing (Lamping and Veach, "A Fast, Minimal Memory, Consistent Hash
/// Algorithm", 2014): no table at all, O(log N) arithmetic per lookup.
///
/// Members are buckets `0..<N` in ``members`` order. Adding a member (appended as bucket `N`)
/// moves exactly the keys it should own, 1/(N+1) of them. Removing the *last* member is just as
/// cheap; removing another one moves the last member into its bucket, which moves about twice
/// the ideal share — jump hashing's known limit. Weights are not supported.
///
/// The loop is the paper's, kept in floating point: the candidate bucket plus one stays a
/// `Double`, the exit test compares the product before it is truncated, and the truncation is a
/// `Double` rounding rather than a round trip through `Int64`. That takes two conversions off each
/// step's critical path and lets the final, mispredicted branch resolve a truncation earlier. The
/// results are bit-identical to the paper's code (every value involved is an integer below 2⁵²,
/// exact in a `Double`); bucket counts from 2⁵² up take the paper's integer loop.
public struct JumpHashPlacer: Placer {
    /// The name reports use for this placer.
    ///
    /// - Complexity: O(1).
    public static let algorithmName = "jump"

    @usableFromInline let table: MemberTable

    /// The members, in bucket order.
    ///
    /// - Complexity: O(1): the stored array is returned, not copied.
    public var members: [PlacementMember] { table.members }
    /// How keys and member names are hashed.
    ///
    /// - Complexity: O(1).
    public var keyHasher: KeyHasher { table.hasher }
    /// Always 0: jump hashing keeps no lookup table.
    ///
    /// - Complexity: O(1).
    public var tableBytes: Int { 0 }

    /// Creates a jump placer over `members`, in bucket order.
    ///
    /// - Throws: ``PlacementError`` for a duplicate, empty-named or non-unit-weight member.
    /// - Complexity: O(n) expected for n members (each name is hashed and indexed once); O(n²) at
    ///   worst if the name index's hashing degenerates.
    public init(members: [PlacementMember], keyHasher: KeyHasher = .default) throws(PlacementError) {
        let table = try MemberTable(members, hasher: keyHasher)
        try table.requireUniformWeights(placer: Self.algorithmName)
        self.table = table
    }

    init(validated table: MemberTable) {
        self.table = table
    }

    /// The bucket, among n members, that owns `hash`.
    ///
    /// - Complexity: O(log n) expected, n the number of members: the jump sequence takes about ln n
    ///   + 1 steps. O(n) at worst, since every step moves to a higher bucket.
    @inlinable
    public func memberIndex(forHash hash: UInt64) throws(PlacementError) -> Int {
        let count = table.count
        guard count > 0 else { throw .noMembers }
        return Self.bucket(for: hash, buckets: count)
    }

    /// The paper's jump hash of `key` over `buckets` buckets (`buckets` ≥ 1).
    ///
    /// - Complexity: O(log `buckets`) expected; O(`buckets`) at worst, since every step moves to a
    ///   higher bucket.
    @inlinable
    public static func bucket(for key: UInt64, buckets: Int) -> Int {
        guard buckets < 1 << 52 else { return paperBucket(for: key, buckets: buckets) }
        // The floating-point loop lives in C (BeaconSystemShims), which on x86-64 runs a copy
        // compiled for SSE4.1's `roundsd` where the CPU has it: Swift cannot assume SSE4.1, and
        // would call libm's `trunc` on every step.
        return Int(beacon_jump_bucket(key, Int64(buckets)))
    }

    /// The paper's loop, for bucket counts whose values a `Double` cannot hold exactly; it also
    /// stops at a jump past `Int64`, where the published loop's conversion would trap.
    @usableFromInline
    static func paperBucket(for key: UInt64, buckets: Int) -> Int {
        let limit = Int64(buckets)
        var state = key
        var current: Int64 = 0
        var next: Int64 = 0
        while next < limit {
            current = next
            state = state &* 2_862_933_555_777_941_757 &+ 1
            let jump = Double(current + 1) * (Double(1 << 31) / Double((state >> 33) &+ 1))
            // Past every Int64, so past `buckets`: converting it would trap.
            guard jump < 0x1p63 else { break }
            next = Int64(jump)
        }
        return Int(current)
    }

    /// A placer with `member` appended as the last bucket: only keys that now belong to it move.
    ///
    /// - Complexity: O(n) for n members: the member list and its name index are copied.
    public func adding(_ member: PlacementMember) throws(PlacementError) -> JumpHashPlacer {
        var table = table
        try table.append(member)
        try table.requireUniformWeights(placer: Self.algorithmName)
        return JumpHashPlacer(validated: table)
    }

    /// A placer without the member named `name`; the last member takes its bucket.
    ///
    /// - Complexity: O(n) for n members: the member list and its name index are copied.
    public func removing(_ name: String) throws(PlacementError) -> JumpHashPlacer {
        var table = table
        try table.swapRemove(named: name)
        return JumpHashPlacer(validated: table)
    }

    /// This placer unchanged if `weight` is 1; jump hashing has no weights.
    ///
    /// - Complexity: O(1) expected: one lookup of the name; no copy.
    public func reweighting(_ name: String, to weight: Double) throws(PlacementError) -> JumpHashPlacer {
        try table.requireUnitReweight(named: name, to: weight, placer: Self.algorithmName)
        return self
    }
}
