/// A placer that tracks requests in flight: each request acquires a member and later releases it.
/// ``BoundedLoadBalancer`` and ``PowerOfTwoChoicesPlacer`` conform.
public protocol LoadAwarePlacer: AnyObject, Sendable {
    /// How keys are hashed; fixed for the placer's life.
    ///
    /// - Complexity: O(1).
    var keyHasher: KeyHasher { get }
    /// The current members, by index.
    ///
    /// - Complexity: O(1) in Beacon's placers: the published array is returned, not copied.
    var members: [PlacementMember] { get }
    /// Requests in flight, by member index.
    ///
    /// - Complexity: O(n) for n members; allocates the array.
    var loads: [Int] { get }
    /// Places one request for the key with hash `hash`.
    ///
    /// - Complexity: Depends on the placer: O(1) expected for ``BoundedLoadBalancer`` while the
    ///   key's owner has room, O(log n) expected for ``PowerOfTwoChoicesPlacer`` over n members.
    func acquire(forHash hash: UInt64) throws(PlacementError) -> PlacementLease
    /// Places one request for the key with hash `hash` on a member for which `isRefused` is false;
    /// nil when every member has refused. For members that may turn requests down.
    ///
    /// - Complexity: Depends on the placer; a walk past refused members, at worst over every member
    ///   (or ring point) once.
    func acquire(forHash hash: UInt64, skipping isRefused: (Int) -> Bool) throws(PlacementError) -> PlacementLease?
    /// Gives back a lease, exactly once.
    ///
    /// - Complexity: O(1): a compare-and-swap on one counter in Beacon's placers.
    func release(_ lease: PlacementLease) throws(PlacementError)
    /// Replaces the membership with `members`, in this order; members that stay keep their loads.
    ///
    /// - Complexity: Depends on the placer: O(n) expected for ``PowerOfTwoChoicesPlacer`` over n
    ///   members, O(P log P) for ``BoundedLoadBalancer``'s ring of P points.
    func replaceMembers(with members: [PlacementMember]) throws(PlacementError)
}

extension LoadAwarePlacer {
    /// Places one request for `key`'s UTF-8 bytes, read in place.
    ///
    /// - Complexity: O(k) to hash the key's k bytes, plus the placer's ``acquire(forHash:)``.
    @inlinable
    public func acquire(for key: String) throws(PlacementError) -> PlacementLease {
        try acquire(forHash: keyHasher.hash(key))
    }

    /// Places one request for the key `bytes`.
    ///
    /// - Complexity: O(k) to hash the key's k bytes, plus the placer's ``acquire(forHash:)``.
    @inlinable
    public func acquire(for bytes: UnsafeRawBufferPointer) throws(PlacementError) -> PlacementLease {
        try acquire(forHash: keyHasher.hash(bytes))
    }
}
