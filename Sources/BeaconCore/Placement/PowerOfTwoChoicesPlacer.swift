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

    /// Places one request on the less loaded of its two candidates among the members that have not
    /// refused it: a refused candidate is replaced by the next unrefused member after it, in index
    /// order.
    ///
    /// - Parameter isRefused: whether the member at an index has refused this request.
    /// - Returns: a lease, or nil when every member has refused.
    /// - Throws: ``PlacementError/noMembers``.
    @inlinable
    public func acquire(
        forHash hash: UInt64,
        skipping isRefused: (Int) -> Bool
    ) throws(PlacementError) -> PlacementLease? {
        try tracker.snapshot.withPinned { (members) throws(PlacementError) -> PlacementLease? in
            let count = members.placer.table.count
            guard count > 0 else { throw .noMembers }
            func unrefused(from start: Int, other: Int) -> Int? {
                var index = start
                for _ in 0..<count {
                    if index != other && !isRefused(index) { return index }
                    index = index + 1 == count ? 0 : index + 1
                }
                return nil
            }
            guard let first = unrefused(from: JumpHashPlacer.bucket(for: hash, buckets: count), other: -1) else {
                return nil
            }
            let second = unrefused(
                from: JumpHashPlacer.bucket(for: mix(hash, 0x7477_6F63_686F_6963), buckets: count), other: first)
            var chosen = first
            if let second {
                let firstLoad = tracker.counters[members.counterSlots[first]].pointee.load(ordering: .relaxed)
                let secondLoad = tracker.counters[members.counterSlots[second]].pointee.load(ordering: .relaxed)
                if secondLoad < firstLoad { chosen = second }
            }
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

    /// Replaces the whole membership with `members`, in this order, so member indices match the
    /// caller's list. Members that stay keep their in-flight counts.
    public func replaceMembers(with members: [PlacementMember]) throws(PlacementError) {
        try tracker.update { _ throws(PlacementError) in try JumpHashPlacer(members: members, keyHasher: keyHasher) }
    }

    /// Removes a member; its leases can still be released.
    public func remove(_ name: String) throws(PlacementError) {
        try tracker.update { placer throws(PlacementError) in try placer.removing(name) }
    }
}
