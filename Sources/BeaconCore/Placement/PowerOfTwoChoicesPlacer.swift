public import Synchronization

/// Power of two choices (Mitzenmacher, 2001; Azar et al., 1999): each request goes to the less
/// loaded of two members picked by hashing the key twice.
///
/// The two candidates are jump-hash buckets of two independent hashes of the key, so each key
/// has a stable pair and membership changes disturb pairs minimally; the load is the number of
/// leases in flight, kept in atomic counters. With n requests in flight the most loaded member
/// carries about `n/N + ln ln N / ln 2` — exponentially better than one random choice — but no
/// hard bound; use ``BoundedLoadBalancer`` for one. Weights are not supported.
public final class PowerOfTwoChoicesPlacer: LoadAwarePlacer {
    public static let algorithmName = "power-of-two"

    public let keyHasher: KeyHasher
    @usableFromInline let tracker: LoadTracker<JumpHashPlacer>

    /// Creates the placer over `members`, tracking up to `capacity` members at once.
    public init(
        members: [PlacementMember],
        capacity: Int = 4096,
        keyHasher: KeyHasher = .default
    ) throws(PlacementError) {
        self.keyHasher = keyHasher
        tracker = try LoadTracker(JumpHashPlacer(members: members, keyHasher: keyHasher), capacity: capacity)
    }

    /// The members, by index.
    public var members: [PlacementMember] { tracker.current.members }

    /// Places one request for the key with hash `hash` on the less loaded of its two candidates.
    ///
    /// - Throws: ``PlacementError/noMembers``.
    @inlinable
    public func acquire(forHash hash: UInt64) throws(PlacementError) -> PlacementLease {
        try tracker.snapshot.withPinned { (members) throws(PlacementError) -> PlacementLease in
            let count = members.placer.table.count
            guard count > 0 else { throw .noMembers }
            let first = JumpHashPlacer.bucket(for: hash, buckets: count)
            var second = JumpHashPlacer.bucket(for: mix(hash, 0x7477_6F63_686F_6963), buckets: count)
            if second == first && count > 1 { second = first + 1 == count ? 0 : first + 1 }
            let firstLoad = tracker.counters[members.counterSlots[first]].pointee.load(ordering: .relaxed)
            let secondLoad = tracker.counters[members.counterSlots[second]].pointee.load(ordering: .relaxed)
            let chosen = secondLoad < firstLoad ? second : first
            tracker.counters[members.counterSlots[chosen]].pointee.wrappingAdd(1, ordering: .relaxed)
            tracker.inFlight.wrappingAdd(1, ordering: .relaxed)
            return tracker.lease(members, index: chosen)
        }
    }


    /// Gives back a lease.
    @inlinable
    public func release(_ lease: PlacementLease) throws(PlacementError) {
        try tracker.release(lease)
    }

    /// Requests in flight, by member index.
    public var loads: [Int] { tracker.loads() }

    /// Adds a member (appended as the last jump bucket).
    public func add(_ member: PlacementMember) throws(PlacementError) {
        try tracker.update { placer throws(PlacementError) in try placer.adding(member) }
    }

    /// Removes a member; its leases can still be released.
    public func remove(_ name: String) throws(PlacementError) {
        try tracker.update { placer throws(PlacementError) in try placer.removing(name) }
    }
}
