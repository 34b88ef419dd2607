/// A mutable assignment set keyed by ``AssignmentKey``, with its digest kept current: the live
/// state a sender batches changes against and a receiver applies messages to.
///
/// Lookups, upserts and removals are O(1): entries (key, version, contribution to the digest,
/// and the payload's place in one append-only byte arena) live in a dense array, found through
/// an `AssignmentIndex`. Replaced and removed payloads leave garbage in the arena, which is
/// compacted once it outweighs the live bytes, so memory stays within about twice the live
/// payloads and upserts allocate nothing once the arena has grown.
public struct AssignmentTable: Sendable, Equatable {
    struct Slot: Equatable, Sendable {
        var key: UInt64
        var version: UInt64
        /// What the entry adds to ``AssignmentTable/digest``: key, version and payload digest
        /// mixed (see `AssignmentDigest`).
        var contribution: UInt64
        var payloadOffset: Int
        var payloadLength: Int
    }

    /// The live payloads of one table together are bounded like a set's, so a snapshot of any
    /// table is a valid ``AssignmentSet``.
    public static let maximumPayloadBytes = AssignmentSet.maximumPayloadBytes

    /// Entries in no particular order; `index` maps keys to positions here.
    private var slots: [Slot] = []
    private var index = AssignmentIndex()
    private var arena: [UInt8] = []
    /// The previous arena, kept with its capacity so a compaction writes into memory that is
    /// already mapped: a fresh buffer would page-fault once per 4 KiB, a large part of an
    /// upsert's cost when payloads are a few hundred bytes.
    private var spareArena: [UInt8] = []
    private var liveBytes = 0
    /// The wrapping sum of the entries' contributions, equal to the digest of ``snapshot()``.
    public private(set) var digest: UInt64 = 0

    public init() {}

    /// A table holding `set`.
    public init(_ set: AssignmentSet) {
        reserveCapacity(set.count)
        arena = set.payloadBytes
        liveBytes = arena.count
        for entry in set.entries {
            index.insert(entry.key, at: slots.count)
            slots.append(
                Slot(
                    key: entry.key, version: entry.version, contribution: entry.contribution,
                    payloadOffset: Int(entry.payloadOffset), payloadLength: Int(entry.payloadLength)))
        }
        digest = set.digest
    }

    private func slot(_ key: UInt64) -> Slot? {
        index.position(of: key).map { slots[$0] }
    }

    public var count: Int { slots.count }
    public var isEmpty: Bool { slots.isEmpty }
    /// The bytes of the payloads currently held (not counting arena garbage).
    public var payloadByteCount: Int { liveBytes }

    /// The version held for `key`, or nil.
    public func version(of key: AssignmentKey) -> UInt64? { slot(key.packed)?.version }

    /// The assignment held for `key`, with its payload copied out, or nil.
    public subscript(key: AssignmentKey) -> Assignment? {
        guard let slot = slot(key.packed) else { return nil }
        return Assignment(key: key, version: slot.version, payload: Array(payload(of: slot)))
    }

    /// What `key` contributes to ``digest`` (0 when absent).
    func contribution(of key: UInt64) -> UInt64 {
        slot(key)?.contribution ?? 0
    }

    /// Room for `count` entries without rehashing.
    public mutating func reserveCapacity(_ count: Int) {
        slots.reserveCapacity(count)
        index.reserveCapacity(count)
    }

    /// Inserts or replaces the entry for `key`. Returns false, and changes nothing, when the
    /// table already holds the same version with the same payload bytes.
    @discardableResult
    public mutating func upsert(_ key: AssignmentKey, version: UInt64, payload: UnsafeRawBufferPointer)
        throws(TaskDiffError) -> Bool
    {
        try upsert(key.packed, version: version, payload: payload)
    }

    /// Inserts or replaces the entry for `key` with a copy of `payload`; see
    /// ``upsert(_:version:payload:)-(_,_,UnsafeRawBufferPointer)``.
    @discardableResult
    public mutating func upsert(_ key: AssignmentKey, version: UInt64, payload: [UInt8]) throws(TaskDiffError) -> Bool {
        try payload.withUnsafeBytes { bytes in
            Result { () throws(TaskDiffError) in try upsert(key, version: version, payload: bytes) }
        }.get()
    }

    mutating func upsert(_ key: UInt64, version: UInt64, payload: UnsafeRawBufferPointer) throws(TaskDiffError) -> Bool
    {
        let contribution = AssignmentDigest.contribution(
            key: key, version: version, payloadDigest: AssignmentDigest.payload(payload))
        let position = index.position(of: key)
        let previous = position.map { slots[$0] }
        if let previous, previous.contribution == contribution, previous.payloadLength == payload.count {
            return false
        }
        let previousLength = previous?.payloadLength ?? 0
        let limit = Self.maximumPayloadBytes - liveBytes + previousLength
        guard payload.count <= limit else {
            throw .payloadTooLarge(key: AssignmentKey(packed: key), bytes: payload.count, limit: limit)
        }
        compactIfMostlyGarbage(adding: payload.count)
        digest &-= previous?.contribution ?? 0
        digest &+= contribution
        liveBytes += payload.count - previousLength
        let slot = Slot(
            key: key, version: version, contribution: contribution, payloadOffset: arena.count,
            payloadLength: payload.count)
        arena.appendBytes(payload)
        if let position {
            slots[position] = slot
        } else {
            index.insert(key, at: slots.count)
            slots.append(slot)
        }
        return true
    }

    /// Deletes the entry for `key`; returns false when there was none.
    @discardableResult
    public mutating func remove(_ key: AssignmentKey) -> Bool {
        remove(key.packed)
    }

    mutating func remove(_ key: UInt64) -> Bool {
        guard let position = index.remove(key) else { return false }
        let previous = slots[position]
        // Keep `slots` dense: the last entry takes the removed one's place.
        let last = slots.removeLast()
        if position < slots.count {
            slots[position] = last
            index.move(last.key, to: position)
        }
        digest &-= previous.contribution
        liveBytes -= previous.payloadLength
        if slots.isEmpty {
            arena.removeAll(keepingCapacity: true)
        }
        return true
    }

    /// Deletes every entry, keeping the storage for reuse.
    public mutating func removeAll() {
        slots.removeAll(keepingCapacity: true)
        index.removeAll()
        arena.removeAll(keepingCapacity: true)
        spareArena = []
        liveBytes = 0
        digest = 0
    }

    /// The held keys in ascending order.
    public func sortedKeys() -> [AssignmentKey] {
        slots.map(\.key).sorted().map(AssignmentKey.init(packed:))
    }

    /// The table's contents as an ``AssignmentSet``. O(*n* log *n*).
    public func snapshot() -> AssignmentSet {
        var builder = AssignmentSet.Builder(minimumCapacity: slots.count)
        for slot in slots.sorted(by: { $0.key < $1.key }) {
            builder.appendSorted(
                key: slot.key, version: slot.version, contribution: slot.contribution, payload: payload(of: slot))
        }
        return builder.buildSorted()
    }

    /// The version, contribution and payload bytes held for `key`.
    func slot(for key: UInt64) -> (version: UInt64, contribution: UInt64, payload: ArraySlice<UInt8>)? {
        guard let slot = slot(key) else { return nil }
        return (slot.version, slot.contribution, payload(of: slot))
    }

    private func payload(of slot: Slot) -> ArraySlice<UInt8> {
        arena[slot.payloadOffset..<slot.payloadOffset + slot.payloadLength]
    }

    /// Calls `body` with the payload of `key` read in place, or returns nil when absent.
    public func withPayload<Result>(for key: AssignmentKey, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows
        -> Result?
    {
        guard let slot = slot(key.packed) else { return nil }
        return try payload(of: slot).withUnsafeBytes(body)
    }

    /// Rewrites the arena with only live payloads when garbage would otherwise exceed both the
    /// live bytes and 64 KiB: amortized O(1) per byte appended.
    private mutating func compactIfMostlyGarbage(adding incoming: Int) {
        let garbage = arena.count - liveBytes
        guard garbage > 65_536, garbage > liveBytes + incoming else { return }
        var compacted = spareArena
        spareArena = []
        compacted.removeAll(keepingCapacity: true)
        compacted.reserveCapacity(arena.count)
        for position in slots.indices {
            let newOffset = compacted.count
            compacted.append(contentsOf: payload(of: slots[position]))
            slots[position].payloadOffset = newOffset
        }
        spareArena = arena
        arena = compacted
    }

    public static func == (lhs: AssignmentTable, rhs: AssignmentTable) -> Bool {
        lhs.digest == rhs.digest && lhs.snapshot() == rhs.snapshot()
    }
}
