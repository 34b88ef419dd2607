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
/// Thread-safe and lock-free: `acquire` pins the member snapshot, reserves one unit of the total,
/// and takes a member by CAS; all counter operations are relaxed because the bound is a property
/// of each counter alone and no other memory is published through them. If concurrent acquires
/// fill every member it sees (possible only while others race), it re-reads the total and walks
/// again; some acquire always succeeds.
public final class BoundedLoadBalancer: LoadAwarePlacer {
    public static let algorithmName = "bounded-load-requests"

    public let keyHasher: KeyHasher
    @usableFromInline let tracker: LoadTracker<RingPlacer>
    /// 1 + ε.
    @usableFromInline let loadBound: Double

    /// The load-bound factor ε.
    public var epsilon: Double { loadBound - 1 }

    /// Creates a balancer over `members` with load factor `epsilon`, tracking up to `capacity`
    /// members at once (departed members still draining included).
    ///
    /// - Throws: ``PlacementError/invalidLoadFactor(_:)`` unless ε is finite and > 0; errors of
    ///   ``RingPlacer`` for bad members.
    public init(
        members: [PlacementMember],
        epsilon: Double = 0.25,
        virtualNodes: Int = RingPlacer.defaultVirtualNodes,
        capacity: Int = 4096,
        keyHasher: KeyHasher = .default
    ) throws(PlacementError) {
        guard epsilon.isFinite, epsilon > 0 else { throw .invalidLoadFactor(epsilon) }
        loadBound = 1 + epsilon
        self.keyHasher = keyHasher
        tracker = try LoadTracker(
            RingPlacer(members: members, virtualNodes: virtualNodes, keyHasher: keyHasher), capacity: capacity)
    }

    /// The members, by index.
    public var members: [PlacementMember] { tracker.current.members }

    /// Places one request for the key with hash `hash`.
    ///
    /// - Throws: ``PlacementError/noMembers``.
    @inlinable
    public func acquire(forHash hash: UInt64) throws(PlacementError) -> PlacementLease {
        try tracker.snapshot.withPinned { (members) throws(PlacementError) -> PlacementLease in
            let ring = members.placer
            guard ring.pointCount > 0 else { throw .noMembers }
            var total = tracker.inFlight.wrappingAdd(1, ordering: .relaxed).newValue
            let start = ring.successor(of: hash)
            while true {
                var point = start
                for _ in 0..<ring.pointCount {
                    let member = ring.owner(atPoint: point)
                    let capacity = Int((loadBound * Double(total) * members.shares[member]).rounded(.up))
                    let counter = tracker.counters[members.counterSlots[member]]
                    var current = counter.pointee.load(ordering: .relaxed)
                    while current < capacity {
                        let (exchanged, original) = counter.pointee.compareExchange(
                            expected: current, desired: current + 1, ordering: .relaxed)
                        if exchanged { return tracker.lease(members, index: member) }
                        current = original
                    }
                    point += 1
                    if point == ring.pointCount { point = 0 }
                }
                total = tracker.inFlight.load(ordering: .relaxed)
            }
        }
    }


    /// Gives back a lease from ``acquire(forHash:)``.
    ///
    /// - Throws: ``PlacementError/releaseWithoutAcquire(member:)`` if the member has nothing in
    ///   flight or the lease came from another balancer.
    @inlinable
    public func release(_ lease: PlacementLease) throws(PlacementError) {
        try tracker.release(lease)
    }

    /// Requests in flight, by member index.
    public var loads: [Int] { tracker.loads() }

    /// Adds a member.
    public func add(_ member: PlacementMember) throws(PlacementError) {
        try tracker.update { ring throws(PlacementError) in try ring.adding(member) }
    }

    /// Removes a member; its leases can still be released.
    public func remove(_ name: String) throws(PlacementError) {
        try tracker.update { ring throws(PlacementError) in try ring.removing(name) }
    }

    /// Re-weights a member.
    public func reweight(_ name: String, to weight: Double) throws(PlacementError) {
        try tracker.update { ring throws(PlacementError) in try ring.reweighting(name, to: weight) }
    }
}
