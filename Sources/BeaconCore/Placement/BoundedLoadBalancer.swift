public import Synchronization

/// Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, SODA 2018),
/// request-level form, for hot keys: each request is placed on the first member, walking the
/// ring clockwise from the key, that has spare capacity, and holds it until released.
///
/// Member `i`'s capacity is `⌈(1+ε) · (in-flight + 1) · wᵢ / W⌉` (for equal weights,
/// `⌈(1+ε)·(in-flight+1)/N⌉`), counting the request being placed. The counters are atomic and a
/// member is only taken by a compare-and-swap below its capacity, so the bound is exact, not
/// statistical: no member ever goes above it at the moment it is chosen. Keys keep going to their
/// ring owner while it has room, so a key's requests stay together until it gets hot.
///
/// Thread-safe and lock-free: `acquire` pins the member snapshot and reserves one unit of the
/// total in one atomic add, then takes a member by CAS. The counters are relaxed because the
/// bound is a property of each counter alone and no other memory is published through them. If
/// concurrent acquires fill every member it sees (possible only while others race), it re-reads
/// the total and walks again; some acquire always succeeds.
public final class BoundedLoadBalancer: LoadAwarePlacer {
    /// The name reports use for this placer.
    ///
    /// - Complexity: O(1).
    public static let algorithmName = "bounded-load-requests"

    /// How keys and member names are hashed; fixed for the balancer's life.
    ///
    /// - Complexity: O(1).
    public let keyHasher: KeyHasher
    @usableFromInline let tracker: LoadTracker<RingPlacer>
    /// (1 + ε)·(1 − 2⁻⁴⁰): the bound's factor, shaved so that a bound whose exact value is an
    /// integer never rounds up past it. The product of rounded doubles can land a few ulps above
    /// (1.25 · 34 · (3 / 8.5) = 15.000000000000002), and rounding that up would let a member take
    /// one request over its bound; 2⁻⁴⁰ is far above the product's error of about 2⁻⁵⁰. It can
    /// only lower a bound whose exact value lies within that sliver above an integer, and the
    /// bounds still sum to more than the load in flight. Folded into the factor, it costs the
    /// walk nothing.
    @usableFromInline let shavedLoadBound: Double
    let virtualNodes: Int

    /// The load-bound factor ε.
    ///
    /// - Complexity: O(1).
    public let epsilon: Double

    /// Creates a balancer over `members` with load factor `epsilon`, tracking up to `capacity`
    /// members at once (departed members still draining included).
    ///
    /// - Throws: ``PlacementError/invalidLoadFactor(_:)`` unless ε is finite and > 0; errors of
    ///   ``RingPlacer`` for bad members.
    /// - Complexity: O(P log P + c) for the ring of P ≈ `virtualNodes` × n points over n members
    ///   and c = `capacity` counters.
    public init(
        members: [PlacementMember],
        epsilon: Double = 0.25,
        virtualNodes: Int = RingPlacer.defaultVirtualNodes,
        capacity: Int = 4096,
        keyHasher: KeyHasher = .default
    ) throws(PlacementError) {
        guard epsilon.isFinite, epsilon > 0 else { throw .invalidLoadFactor(epsilon) }
        self.epsilon = epsilon
        shavedLoadBound = (1 + epsilon) * (1 - 0x1p-40)
        self.keyHasher = keyHasher
        self.virtualNodes = virtualNodes
        tracker = try LoadTracker(
            RingPlacer(members: members, virtualNodes: virtualNodes, keyHasher: keyHasher), capacity: capacity)
    }

    /// The members, by index.
    ///
    /// - Complexity: O(1): one load of the published snapshot; the stored array is returned, not
    ///   copied.
    public var members: [PlacementMember] { tracker.current.members }

    /// Places one request for the key with hash `hash`.
    ///
    /// - Throws: ``PlacementError/noMembers``.
    /// - Complexity: O(1) expected while the key's ring owner has room. A hot key walks past full
    ///   members, at most one walk of the ring's P points per pass; another pass happens only while
    ///   concurrent acquires fill every member it sees.
    @inlinable
    public func acquire(forHash hash: UInt64) throws(PlacementError) -> PlacementLease {
        try tracker.snapshot.withPinned(addingToCarried: 1) {
            (members, counted) throws(PlacementError) -> PlacementLease in
            let ring = members.placer
            guard ring.pointCount > 0 else {
                tracker.snapshot.addToCarried(-1)
                throw .noMembers
            }
            var total = counted
            let start = ring.successor(of: hash)
            while true {
                var point = start
                for _ in 0..<ring.pointCount {
                    if let lease = takeBelowBound(members, ring.owner(atPoint: point), total: total) { return lease }
                    point += 1
                    if point == ring.pointCount { point = 0 }
                }
                total = tracker.snapshot.carried()
            }
        }
    }

    /// Places one request for the key with hash `hash` on a member that has not refused it, for
    /// members that may turn a request down (a runner that is full).
    ///
    /// The walk is ``acquire(forHash:)``'s, except that members for which `isRefused` returns true
    /// are passed over. When every member left is at its bound, the request goes to the first of
    /// them in ring order anyway, over the bound: the members' own refusals are the final word,
    /// and a bound that kept requests away from the only members still accepting would starve
    /// them (nine full runners and one idle one would leave the idle one a single request at a
    /// time). The bound therefore holds only while some unrefused member is below it.
    ///
    /// - Parameter hash: the key's hash, from ``keyHasher``.
    /// - Parameter isRefused: whether the member at an index has refused this request; called
    ///   with indices into the member list this call sees, at most once per ring point.
    /// - Returns: a lease, or nil when every member has refused.
    /// - Throws: ``PlacementError/noMembers``.
    /// - Complexity: O(1) expected while the key's owner has room; one walk of the ring's points
    ///   at worst.
    @inlinable
    public func acquire(
        forHash hash: UInt64,
        skipping isRefused: (Int) -> Bool
    ) throws(PlacementError) -> PlacementLease? {
        try tracker.snapshot.withPinned(addingToCarried: 1) {
            (members, total) throws(PlacementError) -> PlacementLease? in
            let ring = members.placer
            guard ring.pointCount > 0 else {
                tracker.snapshot.addToCarried(-1)
                throw .noMembers
            }
            var point = ring.successor(of: hash)
            var firstUnrefused = -1
            for _ in 0..<ring.pointCount {
                let member = ring.owner(atPoint: point)
                point += 1
                if point == ring.pointCount { point = 0 }
                if isRefused(member) { continue }
                if firstUnrefused < 0 { firstUnrefused = member }
                if let lease = takeBelowBound(members, member, total: total) { return lease }
            }
            guard firstUnrefused >= 0 else {
                tracker.snapshot.addToCarried(-1)
                return nil
            }
            tracker.counters[members.counterSlots[firstUnrefused]].pointee.wrappingAdd(1, ordering: .relaxed)
            return tracker.lease(members, index: firstUnrefused)
        }
    }

    /// Takes one unit of `member` by compare-and-swap if it holds fewer than its bound for `total`
    /// requests in flight; nil when it is full.
    @inlinable @inline(__always)
    func takeBelowBound(_ members: LoadTracker<RingPlacer>.Members, _ member: Int, total: Int) -> PlacementLease? {
        let capacity = Self.roundedUp(shavedLoadBound * Double(total) * members.shares[member])
        let counter = tracker.counters[members.counterSlots[member]]
        var current = counter.pointee.load(ordering: .relaxed)
        while current < capacity {
            let (exchanged, original) = counter.pointee.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return tracker.lease(members, index: member) }
            current = original
        }
        return nil
    }

    /// ⌈`bound`⌉ for a bound ≥ 0, without libm: `rounded(.up)` compiles to a call to `ceil`
    /// through the PLT, because a package cannot assume SSE4.1's `roundsd`, and an acquire makes
    /// that call for every member it tries. Bounds of 2⁶² and more, which no count of requests
    /// reaches, stay there. A bound rounded down instead would let the members' bounds sum below
    /// the requests in flight, and the walk would never end.
    @inlinable @inline(__always)
    static func roundedUp(_ bound: Double) -> Int {
        guard bound < 0x1p62 else { return 1 << 62 }
        let truncated = Int(bound)
        return Double(truncated) < bound ? truncated + 1 : truncated
    }

    /// Gives back a lease from ``acquire(forHash:)``.
    ///
    /// - Throws: ``PlacementError/releaseWithoutAcquire(member:)`` if the member has nothing in
    ///   flight or the lease came from another balancer.
    /// - Complexity: O(1): a compare-and-swap on the member's counter, retried only when another
    ///   thread changed it meanwhile.
    @inlinable
    public func release(_ lease: PlacementLease) throws(PlacementError) {
        try tracker.release(lease)
    }

    /// Requests in flight, by member index.
    ///
    /// - Complexity: O(n) for n members; allocates the array.
    public var loads: [Int] { tracker.loads() }

    /// Adds a member.
    ///
    /// - Complexity: O(P log P) for the new ring of P points, plus O(n) expected to carry the n
    ///   members' counters over, under the membership lock, which acquires and releases never take.
    public func add(_ member: PlacementMember) throws(PlacementError) {
        try tracker.update { ring throws(PlacementError) in try ring.adding(member) }
    }

    /// Removes a member; its leases can still be released.
    ///
    /// - Complexity: O(P log P) for the new ring of P points, plus O(n) expected to carry the n
    ///   members' counters over, under the membership lock, which acquires and releases never take.
    public func remove(_ name: String) throws(PlacementError) {
        try tracker.update { ring throws(PlacementError) in try ring.removing(name) }
    }

    /// Replaces the whole membership with `members`, in this order, so member indices match the
    /// caller's list. Members that stay keep their in-flight counts; leases on members that go can
    /// still be released.
    ///
    /// - Complexity: O(P log P) for the new ring of P points, plus O(n) expected to carry the n
    ///   members' counters over, under the membership lock, which acquires and releases never take.
    public func replaceMembers(with members: [PlacementMember]) throws(PlacementError) {
        try tracker.update { ring throws(PlacementError) in
            try RingPlacer(members: members, virtualNodes: virtualNodes, keyHasher: keyHasher)
        }
    }

    /// Re-weights a member.
    ///
    /// - Complexity: O(P log P) for the new ring of P points, plus O(n) expected to carry the n
    ///   members' counters over, under the membership lock, which acquires and releases never take.
    public func reweight(_ name: String, to weight: Double) throws(PlacementError) {
        try tracker.update { ring throws(PlacementError) in try ring.reweighting(name, to: weight) }
    }
}
