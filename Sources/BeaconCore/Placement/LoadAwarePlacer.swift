/// A placer that tracks requests in flight: each request acquires a member and later releases it.
/// ``BoundedLoadBalancer`` and ``PowerOfTwoChoicesPlacer`` conform.
public protocol LoadAwarePlacer: AnyObject, Sendable {
    /// How keys are hashed; fixed for the placer's life.
    var keyHasher: KeyHasher { get }
    /// The current members, by index.
    var members: [PlacementMember] { get }
    /// Requests in flight, by member index.
    var loads: [Int] { get }
    /// Places one request for the key with hash `hash`.
    func acquire(forHash hash: UInt64) throws(PlacementError) -> PlacementLease
    /// Places one request for the key with hash `hash` on a member for which `isRefused` is false;
    /// nil when every member has refused. For members that may turn requests down.
    func acquire(forHash hash: UInt64, skipping isRefused: (Int) -> Bool) throws(PlacementError) -> PlacementLease?
    /// Gives back a lease, exactly once.
    func release(_ lease: PlacementLease) throws(PlacementError)
    /// Replaces the membership with `members`, in this order; members that stay keep their loads.
    func replaceMembers(with members: [PlacementMember]) throws(PlacementError)
}

extension LoadAwarePlacer {
    /// Places one request for `key`'s UTF-8 bytes, read in place.
    @inlinable
    public func acquire(for key: String) throws(PlacementError) -> PlacementLease {
        try acquire(forHash: keyHasher.hash(key))
    }

    /// Places one request for the key `bytes`.
    @inlinable
    public func acquire(for bytes: UnsafeRawBufferPointer) throws(PlacementError) -> PlacementLease {
        try acquire(forHash: keyHasher.hash(bytes))
    }
}
