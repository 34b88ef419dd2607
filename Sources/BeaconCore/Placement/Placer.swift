/// A placement algorithm over an immutable member list: maps a key's 64-bit hash to the index
/// of one member in ``members``.
///
/// A placer is a value: lookups on it never change it, allocate or lock, and it can be read from
/// any number of threads. A membership change (``adding(_:)``, ``removing(_:)``,
/// ``reweighting(_:to:)``) returns a new placer and leaves the old one untouched, so readers of
/// the old one keep running while the new one is built. ``SharedPlacer`` publishes such changes
/// to concurrent readers.
///
/// Keys are hashed with the placer's ``keyHasher``; the key forms (`String`, bytes, `UInt64`)
/// in the extension below all hash the key's bytes in place.
public protocol Placer: Sendable {
    /// A short, stable name of the algorithm, used in reports (`"jump"`, `"ring"`, …).
    ///
    /// - Complexity: O(1).
    static var algorithmName: String { get }

    /// The members, in index order: ``memberIndex(forHash:)`` returns an index into this array.
    ///
    /// - Complexity: O(1) in every Beacon placer: the stored array is returned, not copied.
    var members: [PlacementMember] { get }

    /// How keys (and member names) are hashed.
    ///
    /// - Complexity: O(1).
    var keyHasher: KeyHasher { get }

    /// The index of the member that owns `hash`.
    ///
    /// - Throws: ``PlacementError/noMembers`` when the placer is empty.
    /// - Complexity: Depends on the algorithm: O(1) for the table placers (``BoundedLoadTable``,
    ///   ``MaglevPlacer``, ``RoundRobinPlacer``), O(1) expected for ``RingPlacer``, O(log n)
    ///   expected for ``JumpHashPlacer``, O(n) for ``RendezvousPlacer``, with n the number of
    ///   members.
    func memberIndex(forHash hash: UInt64) throws(PlacementError) -> Int

    /// A placer with `member` added.
    ///
    /// - Complexity: Depends on the algorithm; at least O(n) for n members (the member list is
    ///   copied), and up to a rebuild of the placer's table. Each conforming type states its cost.
    func adding(_ member: PlacementMember) throws(PlacementError) -> Self

    /// A placer without the member named `name`.
    ///
    /// - Complexity: Depends on the algorithm; at least O(n) for n members (the member list is
    ///   copied), and up to a rebuild of the placer's table. Each conforming type states its cost.
    func removing(_ name: String) throws(PlacementError) -> Self

    /// A placer where the member named `name` has weight `weight`.
    ///
    /// - Complexity: Depends on the algorithm: O(1) expected where weights are unsupported (only
    ///   the value is checked), otherwise like ``adding(_:)``.
    func reweighting(_ name: String, to weight: Double) throws(PlacementError) -> Self

    /// Bytes of memory the placer's lookup structures occupy (members' names excluded).
    ///
    /// - Complexity: O(1).
    var tableBytes: Int { get }
}

extension Placer {
    /// The index of the member that owns `key`'s UTF-8 bytes; the string is not copied.
    ///
    /// - Complexity: O(k) to hash the key's k bytes, plus the placer's ``memberIndex(forHash:)``.
    @inlinable
    public func memberIndex(for key: String) throws(PlacementError) -> Int {
        try memberIndex(forHash: keyHasher.hash(key))
    }

    /// The index of the member that owns the key `bytes`.
    ///
    /// - Complexity: O(k) to hash the key's k bytes, plus the placer's ``memberIndex(forHash:)``.
    @inlinable
    public func memberIndex(for bytes: UnsafeRawBufferPointer) throws(PlacementError) -> Int {
        try memberIndex(forHash: keyHasher.hash(bytes))
    }

    /// The index of the member that owns the integer key `key` (hashed as 8 little-endian bytes).
    ///
    /// - Complexity: O(1) to hash the integer, plus the placer's ``memberIndex(forHash:)``.
    @inlinable
    public func memberIndex(for key: UInt64) throws(PlacementError) -> Int {
        try memberIndex(forHash: keyHasher.hash(key))
    }

    /// The member that owns `key`.
    ///
    /// - Complexity: O(k) to hash the key's k bytes, plus the placer's ``memberIndex(forHash:)``.
    @inlinable
    public func member(for key: String) throws(PlacementError) -> PlacementMember {
        members[try memberIndex(for: key)]
    }

    /// The number of members.
    ///
    /// - Complexity: O(1).
    @inlinable
    public var memberCount: Int { members.count }
}

/// A placer that can name several distinct members for a key, in preference order: the owner
/// first, then the members that would own the key if the ones before them were gone.
public protocol ReplicaPlacer: Placer {
    /// Writes the indices of `replicas.count` distinct members for `hash` into `replicas`, owner
    /// first. Writes into the caller's buffer; allocates nothing.
    ///
    /// - Throws: ``PlacementError/noMembers``, ``PlacementError/invalidReplicaCount(_:)`` for an
    ///   empty buffer, ``PlacementError/replicaCountExceedsMembers(requested:members:)``.
    /// - Complexity: Depends on the algorithm; for r replicas, O(r²) expected for the ring and the
    ///   bounded-load table (a walk that skips repeats) and O(n) expected for rendezvous over n
    ///   members. Each conforming type states its cost.
    func replicas(forHash hash: UInt64, into replicas: UnsafeMutableBufferPointer<Int>) throws(PlacementError)
}

extension ReplicaPlacer {
    /// Writes the replica set of `key`'s UTF-8 bytes into `replicas`.
    ///
    /// - Complexity: O(k) to hash the key's k bytes, plus the placer's ``replicas(forHash:into:)``.
    @inlinable
    public func replicas(for key: String, into replicas: UnsafeMutableBufferPointer<Int>) throws(PlacementError) {
        try self.replicas(forHash: keyHasher.hash(key), into: replicas)
    }

    /// Writes the replica set of the key `bytes` into `replicas`.
    ///
    /// - Complexity: O(k) to hash the key's k bytes, plus the placer's ``replicas(forHash:into:)``.
    @inlinable
    public func replicas(
        for bytes: UnsafeRawBufferPointer,
        into replicas: UnsafeMutableBufferPointer<Int>
    ) throws(PlacementError) {
        try self.replicas(forHash: keyHasher.hash(bytes), into: replicas)
    }

    /// The replica set of `key` as an array; allocates. Prefer the buffer form on hot paths.
    ///
    /// - Complexity: O(k + r) to hash the key's k bytes and allocate the r-element array, plus the
    ///   placer's ``replicas(forHash:into:)``.
    public func replicas(for key: String, count: Int) throws(PlacementError) -> [Int] {
        try replicas(forHash: keyHasher.hash(key), count: count)
    }

    /// The replica set of `hash` as an array; allocates. Prefer the buffer form on hot paths.
    ///
    /// - Complexity: O(r) to allocate the r-element array, plus the placer's
    ///   ``replicas(forHash:into:)``.
    public func replicas(forHash hash: UInt64, count: Int) throws(PlacementError) -> [Int] {
        guard count >= 1 else { throw .invalidReplicaCount(count) }
        var result = [Int](repeating: 0, count: count)
        var failure: PlacementError?
        result.withUnsafeMutableBufferPointer { buffer in
            do throws(PlacementError) {
                try self.replicas(forHash: hash, into: buffer)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return result
    }
}

/// Checks a replica request against the member count; shared by every replica placer.
@inlinable
func validateReplicaRequest(_ requested: Int, members: Int) throws(PlacementError) {
    guard members > 0 else { throw .noMembers }
    guard requested >= 1 else { throw .invalidReplicaCount(requested) }
    guard requested <= members else { throw .replicaCountExceedsMembers(requested: requested, members: members) }
}

/// Whether `index` is among the first `filled` entries of `buffer`; replica sets are small, so a
/// linear scan beats any set.
@inlinable @inline(__always)
func contains(_ buffer: UnsafeMutableBufferPointer<Int>, _ filled: Int, _ index: Int) -> Bool {
    var i = 0
    while i < filled {
        if buffer[i] == index { return true }
        i += 1
    }
    return false
}

/// Maps a 64-bit hash uniformly onto `0..<count` with one multiplication (Lemire's fast range),
/// instead of a division by `count`.
@inlinable @inline(__always)
func fastRange(_ hash: UInt64, _ count: Int) -> Int {
    Int(truncatingIfNeeded: hash.multipliedFullWidth(by: UInt64(truncatingIfNeeded: count)).high)
}

/// Mixes two 64-bit words into one well-distributed word: the high and low halves of their
/// 128-bit product, xor-ed (the "mum" step of wyhash). Used to derive per-(key, member) scores
/// and virtual-node positions from already-hashed inputs.
@inlinable @inline(__always)
func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let product = (a ^ 0xA076_1D64_78BD_642F).multipliedFullWidth(by: b ^ 0xE703_7ED1_A0B4_28DB)
    return product.high ^ product.low
}
