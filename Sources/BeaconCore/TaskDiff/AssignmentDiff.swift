/// The changes that turn one assignment set into another: upserts and removals, sorted by key.
///
/// `try old.applying(AssignmentDiff(from: old, to: new)) == new` always holds. Computing a diff
/// is one merge walk over the two sorted sets comparing integer keys, versions and payload
/// digests: no hashing, no string comparison, and no allocation per entry. Upserts point into
/// the new set's payload buffer (shared, not copied), and ``recompute(from:to:)`` reuses the
/// storage of a previous diff, so a sender that diffs repeatedly allocates nothing at all.
///
/// Each change also remembers what its key contributed to the old set's digest, so an encoder
/// can stamp every message of a split batch with the digest its receiver must reach.
public struct AssignmentDiff: Sendable, Equatable, CustomStringConvertible {
    struct Change: Equatable, Sendable {
        var key: UInt64
        var version: UInt64
        /// The entry's contribution to the result digest (unused for a removal).
        var contribution: UInt64
        /// The key's contribution to the base digest; 0 when the base does not hold the key.
        var priorContribution: UInt64
        var payloadOffset: UInt32
        var payloadLength: UInt32
        var isRemoval: Bool

        var entry: AssignmentSet.Entry {
            AssignmentSet.Entry(
                key: key, version: version, contribution: contribution,
                payloadOffset: payloadOffset, payloadLength: payloadLength)
        }

        /// The key's contribution once the change is applied.
        var resultContribution: UInt64 {
            isRemoval ? 0 : contribution
        }

        static func upsert(_ entry: AssignmentSet.Entry, prior: UInt64) -> Change {
            Change(
                key: entry.key, version: entry.version, contribution: entry.contribution,
                priorContribution: prior, payloadOffset: entry.payloadOffset,
                payloadLength: entry.payloadLength, isRemoval: false)
        }

        static func removal(_ key: UInt64, prior: UInt64) -> Change {
            Change(
                key: key, version: 0, contribution: 0, priorContribution: prior,
                payloadOffset: 0, payloadLength: 0, isRemoval: true)
        }
    }

    private(set) var changes: [Change] = []
    /// Where upserts' payloads live: the target set's payload buffer.
    private(set) var payloadSource: [UInt8] = []
    /// The digest of the set the diff starts from.
    public private(set) var baseDigest: UInt64 = 0
    /// The digest of the set the diff leads to.
    public private(set) var resultDigest: UInt64 = 0
    /// The number of entries in the set the diff starts from.
    public private(set) var baseCount = 0
    public private(set) var upsertCount = 0

    /// The empty diff from the empty set to itself.
    public init() {}

    /// The diff from `old` to `new`.
    public init(from old: AssignmentSet, to new: AssignmentSet) {
        recompute(from: old, to: new)
    }

    /// Replaces this diff with the diff from `old` to `new`, reusing its storage: once the
    /// storage has grown to the largest diff seen, this allocates nothing.
    public mutating func recompute(from old: AssignmentSet, to new: AssignmentSet) {
        // Work on a local array so the loop appends without going through `self`.
        var output = changes
        changes = []
        output.removeAll(keepingCapacity: true)
        payloadSource = new.payloadBytes
        baseDigest = old.digest
        resultDigest = new.digest
        baseCount = old.count
        upsertCount = old.entries.withUnsafeBufferPointer { before in
            new.entries.withUnsafeBufferPointer { after in
                Self.walk(before, after, into: &output)
            }
        }
        changes = output
    }

    /// The merge walk. An entry is unchanged when its key and contribution match; the
    /// contribution mixes version and payload digest, so this is two words per side. Runs of
    /// unchanged entries, the common case, stay in an inner loop that writes nothing.
    private static func walk(
        _ before: UnsafeBufferPointer<AssignmentSet.Entry>, _ after: UnsafeBufferPointer<AssignmentSet.Entry>,
        into output: inout [Change]
    ) -> Int {
        var upserts = 0
        var i = 0
        var j = 0
        while i < before.count && j < after.count {
            let run = min(before.count - i, after.count - j)
            var k = 0
            while k < run {
                let o = before[i + k]
                let n = after[j + k]
                if (o.key ^ n.key) | (o.contribution ^ n.contribution) != 0 { break }
                k += 1
            }
            i += k
            j += k
            guard k < run else { break }
            let o = before[i]
            let n = after[j]
            if o.key == n.key {
                output.append(.upsert(n, prior: o.contribution))
                upserts += 1
                i += 1
                j += 1
            } else if o.key < n.key {
                output.append(.removal(o.key, prior: o.contribution))
                i += 1
            } else {
                output.append(.upsert(n, prior: 0))
                upserts += 1
                j += 1
            }
        }
        while i < before.count {
            output.append(.removal(before[i].key, prior: before[i].contribution))
            i += 1
        }
        while j < after.count {
            output.append(.upsert(after[j], prior: 0))
            upserts += 1
            j += 1
        }
        return upserts
    }

    /// Builds a diff whose changes were collected by a sender (the batcher) rather than by a walk
    /// over two sets. `changes` must be sorted by key with unique keys.
    init(changes: [Change], payloadSource: [UInt8], baseDigest: UInt64, resultDigest: UInt64, baseCount: Int) {
        self.changes = changes
        self.payloadSource = payloadSource
        self.baseDigest = baseDigest
        self.resultDigest = resultDigest
        self.baseCount = baseCount
        upsertCount = changes.reduce(0) { $0 + ($1.isRemoval ? 0 : 1) }
    }

    public var count: Int { changes.count }
    public var isEmpty: Bool { changes.isEmpty }
    public var removalCount: Int { changes.count - upsertCount }

    /// The changes as standalone values, in key order (payloads copied out).
    public var allChanges: [AssignmentChange] {
        changes.map { change in
            if change.isRemoval { return .removal(AssignmentKey(packed: change.key)) }
            let start = Int(change.payloadOffset)
            return .upsert(
                Assignment(
                    key: AssignmentKey(packed: change.key), version: change.version,
                    payload: Array(payloadSource[start..<start + Int(change.payloadLength)])))
        }
    }

    public var description: String {
        "AssignmentDiff(\(upsertCount) upserts, \(removalCount) removals)"
    }
}
