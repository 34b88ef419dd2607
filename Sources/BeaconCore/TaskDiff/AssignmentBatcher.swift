/// The sending end of an assignment stream, with SwarmKit's batching made configurable: one
/// COMPLETE set first, then INCREMENTAL batches of coalesced changes.
///
/// - Changes are keyed by assignment key and the last one wins: an update and then a removal
///   send only the removal.
/// - The first modification starts a debounce timer (``AssignmentBatcherConfiguration/debounce``)
///   and every later one restarts it; the batch is due when the timer runs out, or at once when
///   it holds ``AssignmentBatcherConfiguration/maximumChanges`` modifications. Modifications are
///   counted as calls, like SwarmKit: 100 updates of one task are 100.
/// - An upsert of the version and payload already held, or a removal of a key not held, changes
///   nothing: it neither counts nor restarts the timer.
/// - Messages are split to fit ``AssignmentBatcherConfiguration/byteBudget``.
///
/// The batcher is a pure state machine: it never reads a clock or starts a timer. Its owner
/// passes the time with each change, arms a timer for ``flushDeadline``, and calls
/// ``flushIfDue(at:)`` when the timer fires or after a change; ``requestComplete()`` answers a
/// receiver that reported a gap. Load the initial set before the first flush, which sends it as
/// the COMPLETE message.
public struct AssignmentBatcher<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public let configuration: AssignmentBatcherConfiguration
    private let encoder: AssignmentEncoder
    /// The current set, changes included whether sent or not.
    public private(set) var table = AssignmentTable()
    /// For each key changed since the last flush, what it contributed to the receiver's digest.
    private var pending: [UInt64: UInt64] = [:]
    /// Modifications since the last flush.
    public private(set) var pendingModifications = 0
    /// When the debounce timer runs out; nil when no modification is waiting.
    public private(set) var flushDeadline: Instant?
    /// `resultsIn` of the last message sent; 0 before the first.
    public private(set) var lastSequence: UInt64 = 0
    /// True until the first flush, and after ``requestComplete()``: the next flush sends the whole
    /// set as a COMPLETE message, and is due at once.
    public private(set) var needsComplete = true
    /// The receiver's set after the last flush, as a digest and a size.
    private var sentDigest: UInt64 = 0
    private var sentCount = 0
    /// Storage reused by every flush.
    private var scratchChanges: [AssignmentDiff.Change] = []
    private var scratchPayloads: [UInt8] = []

    public init(configuration: AssignmentBatcherConfiguration) {
        self.configuration = configuration
        encoder = AssignmentEncoder(validatedBudget: configuration.byteBudget)
    }

    /// The largest payload ``upsert(_:version:payload:at:)-(_,_,UnsafeRawBufferPointer,_)`` takes:
    /// one that, alone in a message, fits the byte budget.
    public var maximumPayloadBytes: Int { encoder.maximumPayloadBytes }

    /// A batcher with SwarmKit's batching values and a 1 MiB budget.
    public init() {
        self.init(configuration: .swarmKit)
    }

    /// Records that `key` now has `version` and `payload`. Returns false when that is what the
    /// batcher already holds. Throws ``TaskDiffError/payloadTooLarge(key:bytes:limit:)`` for a
    /// payload that cannot fit in one message under the byte budget.
    @discardableResult
    public mutating func upsert(_ key: AssignmentKey, version: UInt64, payload: UnsafeRawBufferPointer, at now: Instant)
        throws(TaskDiffError) -> Bool
    {
        guard payload.count <= encoder.maximumPayloadBytes else {
            throw .payloadTooLarge(key: key, bytes: payload.count, limit: encoder.maximumPayloadBytes)
        }
        let prior = table.contribution(of: key.packed)
        guard try table.upsert(key, version: version, payload: payload) else { return false }
        noteModification(of: key.packed, prior: prior, at: now)
        return true
    }

    /// Records an upsert with the payload given as an array; see
    /// ``upsert(_:version:payload:at:)-(_,_,UnsafeRawBufferPointer,_)``.
    @discardableResult
    public mutating func upsert(_ key: AssignmentKey, version: UInt64, payload: [UInt8], at now: Instant)
        throws(TaskDiffError) -> Bool
    {
        // Array.withUnsafeBytes rethrows untyped errors; a Result carries the typed one out.
        try payload.withUnsafeBytes { bytes in
            Result { () throws(TaskDiffError) in try upsert(key, version: version, payload: bytes, at: now) }
        }.get()
    }

    /// Records that `key` is no longer assigned. Returns false when the batcher does not hold it.
    @discardableResult
    public mutating func remove(_ key: AssignmentKey, at now: Instant) -> Bool {
        let prior = table.contribution(of: key.packed)
        guard table.remove(key) else { return false }
        noteModification(of: key.packed, prior: prior, at: now)
        return true
    }

    private mutating func noteModification(of key: UInt64, prior: UInt64, at now: Instant) {
        // Only the first change of a key in a batch knows what the receiver holds for it.
        if !needsComplete && pending[key] == nil { pending[key] = prior }
        pendingModifications += 1
        flushDeadline = now.advanced(by: configuration.debounce)
    }

    /// Whether a flush is due at `now`: a COMPLETE set is needed, the batch is full, or the
    /// debounce timer has run out.
    public func isFlushDue(at now: Instant) -> Bool {
        if needsComplete || pendingModifications >= configuration.maximumChanges { return true }
        guard let flushDeadline else { return false }
        return flushDeadline <= now
    }

    /// ``flush()`` when ``isFlushDue(at:)``, else no messages.
    public mutating func flushIfDue(at now: Instant) throws(TaskDiffError) -> [AssignmentMessage] {
        isFlushDue(at: now) ? try flush() : []
    }

    /// Sends now: the whole set as COMPLETE when one is needed, else the pending changes as
    /// INCREMENTAL messages in key order (none when nothing changed since the last flush).
    public mutating func flush() throws(TaskDiffError) -> [AssignmentMessage] {
        scratchChanges.removeAll(keepingCapacity: true)
        scratchPayloads.removeAll(keepingCapacity: true)
        let kind: AssignmentMessageKind
        if needsComplete {
            kind = .complete
            for key in table.sortedKeys() { appendChange(for: key.packed, prior: 0) }
        } else {
            kind = .incremental
            for (key, prior) in pending.sorted(by: { $0.key < $1.key }) { appendChange(for: key, prior: prior) }
        }
        let diff = AssignmentDiff(
            changes: scratchChanges, payloadSource: scratchPayloads,
            baseDigest: kind == .complete ? 0 : sentDigest, resultDigest: table.digest,
            baseCount: kind == .complete ? 0 : sentCount)
        let messages = try encoder.encode(diff, as: kind, after: lastSequence)
        lastSequence += UInt64(messages.count)
        sentDigest = table.digest
        sentCount = table.count
        needsComplete = false
        pending.removeAll(keepingCapacity: true)
        pendingModifications = 0
        flushDeadline = nil
        return messages
    }

    /// The receiver lost track (a gap, a digest mismatch, a reconnect): drop the pending changes
    /// and send the whole set as COMPLETE on the next flush, which is due at once.
    public mutating func requestComplete() {
        needsComplete = true
        pending.removeAll(keepingCapacity: true)
        pendingModifications = 0
        flushDeadline = nil
    }

    private mutating func appendChange(for key: UInt64, prior: UInt64) {
        guard let held = table.slot(for: key) else {
            scratchChanges.append(.removal(key, prior: prior))
            return
        }
        let entry = AssignmentSet.Entry(
            key: key, version: held.version, contribution: held.contribution,
            payloadOffset: UInt32(scratchPayloads.count), payloadLength: UInt32(held.payload.count))
        scratchPayloads.append(contentsOf: held.payload)
        scratchChanges.append(.upsert(entry, prior: prior))
    }
}
