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
    /// The name reports use for this placer.
    ///
    /// - Complexity: O(1).
    public static let algorithmName = "power-of-two"

    /// How keys and member names are hashed; fixed for the placer's life.
    ///
    /// - Complexity: O(1).
    public let keyHasher: KeyHasher
    @usableFromInline let tracker: LoadTracker<JumpHashPlacer>

    /// Creates the placer over `members`, tracking up to `capacity` members at once.
    ///
    /// - Complexity: O(n + c) expected for n members and c = `capacity` counters.
    public init(
        members: [PlacementMember],
        capacity: Int = 4096,
        keyHasher: KeyHasher = .default
    ) throws(PlacementError) {
        self.keyHasher = keyHasher
        tracker = try LoadTracker(JumpHashPlacer(members: members, keyHasher: keyHasher), capacity: capacity)
    }

    /// The members, by index.
    ///
    /// - Complexity: O(1): one load of the published snapshot; the stored array is returned, not
    ///   copied.
    public var members: [PlacementMember] { tracker.current.members }

    /// Places one request for the key with hash `hash` on the less loaded of its two candidates.
    ///
    /// - Throws: ``PlacementError/noMembers``.
    /// - Complexity: O(log n) expected for n members: two jump hashes and two counter loads. O(n)
    ///   at worst.
    @inlinable
    public func acquire(forHash hash: UInt64) throws(PlacementError) -> PlacementLease {
        try tracker.snapshot.withPinned(addingToCarried: 1) { (members, _) throws(PlacementError) -> PlacementLease in
            let count = members.placer.table.count
            guard count > 0 else {
                tracker.snapshot.addToCarried(-1)
                throw .noMembers
            }
            let first = JumpHashPlacer.bucket(for: hash, buckets: count)
            var second = JumpHashPlacer.bucket(for: mix(hash, 0x7477_6F63_686F_6963), buckets: count)
            if second == first && count > 1 { second = first + 1 == count ? 0 : first + 1 }
            let firstLoad = tracker.counters[members.counterSlots[first]].pointee.load(ordering: .relaxed)
            let secondLoad = tracker.counters[members.counterSlots[second]].pointee.load(ordering: .relaxed)
            let chosen = secondLoad < firstLoad ? second : first
            tracker.counters[members.counterSlots[chosen]].pointee.wrappingAdd(1, ordering: .relaxed)
            return tracker.lease(members, index: chosen)
        }
    }

    /// Places one request on the less loaded of its two candidates among the members that have not
    /// refused it: a refused candidate is replaced by the next unrefused member after it, in index
    /// order.
    ///
    /// - Parameter hash: the key's hash, from ``keyHasher``.
    /// - Parameter isRefused: whether the member at an index has refused this request.
    /// - Returns: a lease, or nil when every member has refused.
    /// - Throws: ``PlacementError/noMembers``.
    /// - Complexity: O(log n) expected for n members while the two candidates have not refused;
    ///   each refused candidate is replaced by a scan for the next unrefused member, O(n) at worst.
    @inlinable
    public func acquire(
        forHash hash: UInt64,
        skipping isRefused: (Int) -> Bool
    ) throws(PlacementError) -> PlacementLease? {
        try tracker.snapshot.withPinned(addingToCarried: 1) { (members, _) throws(PlacementError) -> PlacementLease? in
            let count = members.placer.table.count
            guard count > 0 else {
                tracker.snapshot.addToCarried(-1)
                throw .noMembers
            }
            func unrefused(from start: Int, other: Int) -> Int? {
                var index = start
                for _ in 0..<count {
                    if index != other && !isRefused(index) { return index }
                    index = index + 1 == count ? 0 : index + 1
                }
                return nil
            }
            guard let first = unrefused(from: JumpHashPlacer.bucket(for: hash, buckets: count), other: -1) else {
                tracker.snapshot.addToCarried(-1)
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
            return tracker.lease(members, index: chosen)
        }
    }

    /// Gives back a lease.
    ///
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

    /// Adds a member (appended as the last jump bucket).
    ///
    /// - Complexity: O(n) expected for n members (the member list is copied and the counters
    ///   carried over), under the membership lock, which acquires and releases never take.
    public func add(_ member: PlacementMember) throws(PlacementError) {
        try tracker.update { placer throws(PlacementError) in try placer.adding(member) }
    }

    /// Replaces the whole membership with `members`, in this order, so member indices match the
    /// caller's list. Members that stay keep their in-flight counts.
    ///
    /// - Complexity: O(n) expected for n members (a new member list, the counters carried over),
    ///   under the membership lock, which acquires and releases never take.
    public func replaceMembers(with members: [PlacementMember]) throws(PlacementError) {
        try tracker.update { _ throws(PlacementError) in try JumpHashPlacer(members: members, keyHasher: keyHasher) }
    }

    /// Removes a member; its leases can still be released.
    ///
    /// - Complexity: O(n) expected for n members (the member list is copied and the counters
    ///   carried over), under the membership lock, which acquires and releases never take.
    public func remove(_ name: String) throws(PlacementError) {
        try tracker.update { placer throws(PlacementError) in try placer.removing(name) }
    }
}
