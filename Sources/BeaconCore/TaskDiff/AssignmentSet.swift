/// An immutable set of assignments, sorted by key: what one node must run at one moment.
///
/// Entries live in one contiguous array of 32-byte records and payloads in one byte buffer laid
/// out in key order, so a set is three allocations whatever its size, two sets compare by a
/// merge walk over sequential memory, and equal sets are equal byte for byte. Build one from
/// ``Assignment`` values or, without a per-entry allocation, with a ``Builder``.
public struct AssignmentSet: Sendable, Equatable, RandomAccessCollection, CustomStringConvertible {
    /// Entry records. ``AssignmentDiff`` compares the key and the contribution (which mixes the
    /// key, the version and the payload's digest); the offset and length locate the payload in
    /// `payloadBytes`.
    struct Entry: Equatable, Sendable {
        var key: UInt64
        var version: UInt64
        var contribution: UInt64
        var payloadOffset: UInt32
        var payloadLength: UInt32
    }

    /// The payloads of one set together are addressed with 32-bit offsets.
    public static let maximumPayloadBytes = Int(UInt32.max)

    private(set) var entries: [Entry]
    private(set) var payloadBytes: [UInt8]
    /// The wrapping sum of the entries' contributions; see ``AssignmentMessage/stateDigest``.
    public let digest: UInt64

    /// The empty set.
    public init() {
        entries = []
        payloadBytes = []
        digest = 0
    }

    /// Canonical storage only: `entries` sorted with unique keys, payloads packed in key order.
    init(sortedEntries entries: [Entry], payloadBytes: [UInt8]) {
        self.entries = entries
        self.payloadBytes = payloadBytes
        var sum: UInt64 = 0
        for entry in entries { sum &+= entry.contribution }
        digest = sum
    }

    /// A set of `assignments`, which may come in any order; a key given twice throws
    /// ``TaskDiffError/duplicateKey(_:)``.
    public init(_ assignments: some Sequence<Assignment>) throws(TaskDiffError) {
        var builder = Builder()
        for assignment in assignments {
            try builder.add(assignment.key, version: assignment.version, payload: assignment.payload)
        }
        self = try builder.build()
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { entries.count }

    /// The assignment at `position`, with its payload copied out.
    public subscript(position: Int) -> Assignment {
        let entry = entries[position]
        return Assignment(key: AssignmentKey(packed: entry.key), version: entry.version, payload: payload(of: entry))
    }

    /// The assignment with `key`, or nil. O(log *n*).
    public subscript(key: AssignmentKey) -> Assignment? {
        index(of: key).map { self[$0] }
    }

    /// The position of `key`, or nil. O(log *n*).
    public func index(of key: AssignmentKey) -> Int? {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].key < key.packed { low = middle + 1 } else { high = middle }
        }
        return low < entries.count && entries[low].key == key.packed ? low : nil
    }

    /// The key at `position`.
    public func key(at position: Int) -> AssignmentKey { AssignmentKey(packed: entries[position].key) }

    /// The version at `position`.
    public func version(at position: Int) -> UInt64 { entries[position].version }

    /// Calls `body` with the payload at `position`, read in place.
    public func withPayload<Result>(at position: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows
        -> Result
    {
        let entry = entries[position]
        let range = Int(entry.payloadOffset)..<Int(entry.payloadOffset) + Int(entry.payloadLength)
        return try payloadBytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// The total size of the payloads.
    public var payloadByteCount: Int { payloadBytes.count }

    /// The result of applying `diff` to this set: its upserts inserted or replaced, its removals
    /// deleted (a removal of an absent key does nothing). Throws
    /// ``TaskDiffError/baseMismatch(expectedDigest:actualDigest:)`` when `diff` was computed
    /// from a different set.
    ///
    /// - Complexity: O(*n* + *m*) for *n* entries and *m* changes: one merge walk.
    public func applying(_ diff: AssignmentDiff) throws(TaskDiffError) -> AssignmentSet {
        guard diff.baseDigest == digest else {
            throw .baseMismatch(expectedDigest: diff.baseDigest, actualDigest: digest)
        }
        var merged = Builder(minimumCapacity: entries.count + diff.upsertCount)
        var index = 0
        for change in diff.changes {
            while index < entries.count && entries[index].key < change.key {
                merged.appendSorted(entries[index], from: payloadBytes)
                index += 1
            }
            if index < entries.count && entries[index].key == change.key { index += 1 }
            if !change.isRemoval { merged.appendSorted(change.entry, from: diff.payloadSource) }
        }
        while index < entries.count {
            merged.appendSorted(entries[index], from: payloadBytes)
            index += 1
        }
        return merged.buildSorted()
    }

    func payload(of entry: Entry) -> [UInt8] {
        Array(payloadBytes[Int(entry.payloadOffset)..<Int(entry.payloadOffset + entry.payloadLength)])
    }

    public var description: String { "AssignmentSet(\(count) entries, \(payloadBytes.count) payload bytes)" }
}

extension AssignmentSet {
    /// Builds a set without allocating per entry: payload bytes are appended to one buffer.
    /// Entries may be added in any order; ``build()`` sorts them when needed.
    public struct Builder: Sendable {
        private var entries: [Entry] = []
        private var payloadBytes: [UInt8] = []
        private var isSorted = true

        public init(minimumCapacity: Int = 0) {
            entries.reserveCapacity(minimumCapacity)
        }

        /// Adds an assignment whose payload is read from `payload`.
        public mutating func add(_ key: AssignmentKey, version: UInt64, payload: UnsafeRawBufferPointer)
            throws(TaskDiffError)
        {
            let offset = payloadBytes.count
            guard payload.count <= AssignmentSet.maximumPayloadBytes - offset else {
                throw .payloadTooLarge(
                    key: key, bytes: payload.count, limit: AssignmentSet.maximumPayloadBytes - offset)
            }
            if let last = entries.last, last.key >= key.packed { isSorted = false }
            payloadBytes.appendBytes(payload)
            entries.append(
                Entry(
                    key: key.packed, version: version,
                    contribution: AssignmentDigest.contribution(
                        key: key.packed, version: version, payloadDigest: AssignmentDigest.payload(payload)),
                    payloadOffset: UInt32(offset), payloadLength: UInt32(payload.count)))
        }

        /// Adds an assignment whose payload is copied from `payload`.
        public mutating func add(_ key: AssignmentKey, version: UInt64, payload: [UInt8]) throws(TaskDiffError) {
            try payload.withUnsafeBytes { bytes in
                Result { () throws(TaskDiffError) in try add(key, version: version, payload: bytes) }
            }.get()
        }

        /// The set; throws ``TaskDiffError/duplicateKey(_:)`` if a key was added twice.
        public consuming func build() throws(TaskDiffError) -> AssignmentSet {
            if isSorted { return buildSorted() }
            let order = entries.indices.sorted { entries[$0].key < entries[$1].key }
            var sorted = Builder(minimumCapacity: entries.count)
            sorted.payloadBytes.reserveCapacity(payloadBytes.count)
            for position in order {
                let entry = entries[position]
                if let last = sorted.entries.last, last.key == entry.key {
                    throw .duplicateKey(AssignmentKey(packed: entry.key))
                }
                sorted.appendSorted(entry, from: payloadBytes)
            }
            return sorted.buildSorted()
        }

        /// Appends an entry known to sort after every entry so far, with its payload copied from
        /// `source` (where `entry`'s offset points).
        mutating func appendSorted(_ entry: Entry, from source: [UInt8]) {
            let start = Int(entry.payloadOffset)
            appendSorted(
                key: entry.key, version: entry.version, contribution: entry.contribution,
                payload: source[start..<start + Int(entry.payloadLength)])
        }

        /// Appends an entry known to sort after every entry so far.
        mutating func appendSorted(key: UInt64, version: UInt64, contribution: UInt64, payload: ArraySlice<UInt8>) {
            entries.append(
                Entry(
                    key: key, version: version, contribution: contribution,
                    payloadOffset: UInt32(payloadBytes.count), payloadLength: UInt32(payload.count)))
            payloadBytes.append(contentsOf: payload)
        }

        consuming func buildSorted() -> AssignmentSet {
            AssignmentSet(sortedEntries: entries, payloadBytes: payloadBytes)
        }
    }
}
