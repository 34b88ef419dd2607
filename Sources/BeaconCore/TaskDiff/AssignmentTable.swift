/// A mutable assignment set keyed by ``AssignmentKey``, with its digest kept current: the live
/// state a sender batches changes against and a receiver applies messages to.
///
/// Lookups, upserts and removals are O(1): a dictionary maps each key to its version, payload
/// digest and the payload's place in one append-only byte arena. Replaced and removed payloads
/// leave garbage in the arena, which is compacted once it outweighs the live bytes, so memory
/// stays within about twice the live payloads and upserts allocate nothing once the arena has
/// grown.
public struct AssignmentTable: Sendable, Equatable {
    struct Slot: Equatable, Sendable {
        var version: UInt64
        var payloadDigest: UInt64
        var payloadOffset: Int
        var payloadLength: Int
    }

    /// The live payloads of one table together are bounded like a set's, so a snapshot of any
    /// table is a valid ``AssignmentSet``.
    public static let maximumPayloadBytes = AssignmentSet.maximumPayloadBytes

    private var slots: [UInt64: Slot] = [:]
    private var arena: [UInt8] = []
    private var liveBytes = 0
    /// The wrapping sum of the entries' contributions, equal to the digest of ``snapshot()``.
    public private(set) var digest: UInt64 = 0

    public init() {}

    /// A table holding `set`.
    public init(_ set: AssignmentSet) {
        slots.reserveCapacity(set.count)
        arena = set.payloadBytes
        liveBytes = arena.count
        for entry in set.entries {
            slots[entry.key] = Slot(
                version: entry.version, payloadDigest: entry.payloadDigest,
                payloadOffset: Int(entry.payloadOffset), payloadLength: Int(entry.payloadLength))
        }
        digest = set.digest
    }

    public var count: Int { slots.count }
    public var isEmpty: Bool { slots.isEmpty }
    /// The bytes of the payloads currently held (not counting arena garbage).
    public var payloadByteCount: Int { liveBytes }

    /// The version held for `key`, or nil.
    public func version(of key: AssignmentKey) -> UInt64? { slots[key.packed]?.version }

    /// The assignment held for `key`, with its payload copied out, or nil.
    public subscript(key: AssignmentKey) -> Assignment? {
        guard let slot = slots[key.packed] else { return nil }
        return Assignment(key: key, version: slot.version, payload: Array(payload(of: slot)))
    }

    /// What `key` contributes to ``digest`` (0 when absent).
    func contribution(of key: UInt64) -> UInt64 {
        guard let slot = slots[key] else { return 0 }
        return AssignmentDigest.contribution(key: key, version: slot.version, payloadDigest: slot.payloadDigest)
    }

    /// Inserts or replaces the entry for `key`. Returns false, and changes nothing, when the
    /// table already holds the same version with the same payload bytes.
    @discardableResult
    public mutating func upsert(_ key: AssignmentKey, version: UInt64, payload: UnsafeRawBufferPointer) throws(TaskDiffError) -> Bool {
        try upsert(key.packed, version: version, payload: payload, payloadDigest: AssignmentDigest.payload(payload))
    }

    /// Inserts or replaces the entry for `key` with a copy of `payload`; see
    /// ``upsert(_:version:payload:)-(_,_,UnsafeRawBufferPointer)``.
    @discardableResult
    public mutating func upsert(_ key: AssignmentKey, version: UInt64, payload: [UInt8]) throws(TaskDiffError) -> Bool {
        try payload.withUnsafeBytes { bytes in
            Result { () throws(TaskDiffError) in try upsert(key, version: version, payload: bytes) }
        }.get()
    }

    mutating func upsert(_ key: UInt64, version: UInt64, payload: UnsafeRawBufferPointer, payloadDigest: UInt64) throws(TaskDiffError) -> Bool {
        let previous = slots[key]
        if let previous, previous.version == version, previous.payloadDigest == payloadDigest,
            previous.payloadLength == payload.count {
            return false
        }
        let remaining = Self.maximumPayloadBytes - liveBytes + (previous?.payloadLength ?? 0)
        guard payload.count <= remaining else {
            throw .payloadTooLarge(key: AssignmentKey(packed: key), bytes: payload.count, limit: remaining)
        }
        if let previous {
            digest &-= AssignmentDigest.contribution(key: key, version: previous.version, payloadDigest: previous.payloadDigest)
            liveBytes -= previous.payloadLength
        }
        compactIfMostlyGarbage(adding: payload.count)
        let offset = arena.count
        arena.append(contentsOf: payload)
        liveBytes += payload.count
        slots[key] = Slot(version: version, payloadDigest: payloadDigest, payloadOffset: offset, payloadLength: payload.count)
        digest &+= AssignmentDigest.contribution(key: key, version: version, payloadDigest: payloadDigest)
        return true
    }

    /// Deletes the entry for `key`; returns false when there was none.
    @discardableResult
    public mutating func remove(_ key: AssignmentKey) -> Bool {
        remove(key.packed)
    }

    mutating func remove(_ key: UInt64) -> Bool {
        guard let previous = slots.removeValue(forKey: key) else { return false }
        digest &-= AssignmentDigest.contribution(key: key, version: previous.version, payloadDigest: previous.payloadDigest)
        liveBytes -= previous.payloadLength
        if slots.isEmpty {
            arena.removeAll(keepingCapacity: true)
        }
        return true
    }

    /// Deletes every entry, keeping the storage for reuse.
    public mutating func removeAll() {
        slots.removeAll(keepingCapacity: true)
        arena.removeAll(keepingCapacity: true)
        liveBytes = 0
        digest = 0
    }

    /// The held keys in ascending order.
    public func sortedKeys() -> [AssignmentKey] {
        slots.keys.sorted().map(AssignmentKey.init(packed:))
    }

    /// The table's contents as an ``AssignmentSet``. O(*n* log *n*).
    public func snapshot() -> AssignmentSet {
        var builder = AssignmentSet.Builder(minimumCapacity: slots.count)
        for (key, slot) in slots.sorted(by: { $0.key < $1.key }) {
            builder.appendSorted(key: key, version: slot.version, payloadDigest: slot.payloadDigest, payload: payload(of: slot))
        }
        return builder.buildSorted()
    }

    /// The version, payload digest and payload bytes held for `key`.
    func slot(for key: UInt64) -> (version: UInt64, payloadDigest: UInt64, payload: ArraySlice<UInt8>)? {
        guard let slot = slots[key] else { return nil }
        return (slot.version, slot.payloadDigest, payload(of: slot))
    }

    private func payload(of slot: Slot) -> ArraySlice<UInt8> {
        arena[slot.payloadOffset..<slot.payloadOffset + slot.payloadLength]
    }

    /// Calls `body` with the payload of `key` read in place, or returns nil when absent.
    public func withPayload<Result>(for key: AssignmentKey, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result? {
        guard let slot = slots[key.packed] else { return nil }
        return try payload(of: slot).withUnsafeBytes(body)
    }

    /// Rewrites the arena with only live payloads when garbage would otherwise exceed both the
    /// live bytes and 64 KiB: amortized O(1) per byte appended.
    private mutating func compactIfMostlyGarbage(adding incoming: Int) {
        let garbage = arena.count - liveBytes
        guard garbage > 65_536, garbage > liveBytes + incoming else { return }
        var compacted: [UInt8] = []
        compacted.reserveCapacity(liveBytes + incoming)
        for index in slots.indices {
            let slot = slots.values[index]
            let newOffset = compacted.count
            compacted.append(contentsOf: payload(of: slot))
            slots.values[index].payloadOffset = newOffset
        }
        arena = compacted
    }

    public static func == (lhs: AssignmentTable, rhs: AssignmentTable) -> Bool {
        lhs.digest == rhs.digest && lhs.snapshot() == rhs.snapshot()
    }
}
