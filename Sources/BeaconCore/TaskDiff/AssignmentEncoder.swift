/// Turns a diff into wire messages, none larger than a byte budget.
///
/// A batch that does not fit is split at change boundaries into parts with consecutive sequence
/// numbers. A split COMPLETE set becomes one COMPLETE part followed by INCREMENTAL parts that
/// only add entries. Every part restarts its key deltas, so it decodes without the others, and
/// carries the digest its receiver must hold after it.
///
/// Encoding makes two passes over the changes: the first finds the parts and their exact sizes,
/// the second writes each part into a buffer allocated once at that size.
public struct AssignmentEncoder: Sendable {
    /// 1 MiB: a quarter of gRPC's default 4 MiB receive limit, the limit SwarmKit's unbounded
    /// assignment messages broke.
    public static let defaultByteBudget = 1 << 20
    /// The smallest budget: a header and a change with a few bytes of payload.
    public static let minimumByteBudget = 128
    /// Budgets are stored in 32 bits on the wire's terms (the change count is 32-bit).
    public static let maximumByteBudget = Int(UInt32.max)

    /// No message this encoder writes is larger.
    public let byteBudget: Int

    public init(byteBudget: Int = defaultByteBudget) throws(TaskDiffError) {
        guard byteBudget >= Self.minimumByteBudget, byteBudget <= Self.maximumByteBudget else {
            throw .invalidConfiguration(
                "byte budget \(byteBudget) must be between \(Self.minimumByteBudget) and \(Self.maximumByteBudget)")
        }
        self.byteBudget = byteBudget
    }

    /// An encoder for a budget already checked (by ``AssignmentBatcherConfiguration``).
    init(validatedBudget: Int) {
        byteBudget = validatedBudget
    }

    /// The largest payload one change may carry under this budget.
    public var maximumPayloadBytes: Int {
        byteBudget - AssignmentWireFormat.headerSize - AssignmentWireFormat.maximumChangeOverhead
    }

    /// Encodes `diff` as the messages that follow message number `sequence` (0 before the
    /// first). An empty INCREMENTAL diff gives no message; an empty COMPLETE set gives one.
    ///
    /// Throws ``TaskDiffError/completeNeedsEmptyBase(baseCount:)`` for a COMPLETE diff that does
    /// not start from the empty set, and ``TaskDiffError/payloadTooLarge(key:bytes:limit:)`` when
    /// one change alone exceeds the budget.
    public func encode(_ diff: AssignmentDiff, as kind: AssignmentMessageKind, after sequence: UInt64)
        throws(TaskDiffError) -> [AssignmentMessage]
    {
        if kind == .complete && diff.baseCount != 0 { throw .completeNeedsEmptyBase(baseCount: diff.baseCount) }
        if kind == .incremental && diff.isEmpty { return [] }
        let parts = try partition(diff.changes)
        guard UInt64.max - sequence > UInt64(parts.count) else {
            throw .invalidConfiguration("sequence \(sequence) has no room for \(parts.count) more messages")
        }
        var messages: [AssignmentMessage] = []
        messages.reserveCapacity(parts.count)
        var digest = diff.baseDigest
        var number = sequence
        diff.payloadSource.withUnsafeBytes { payloads in
            diff.changes.withUnsafeBufferPointer { changes in
                for (index, part) in parts.enumerated() {
                    let partKind: AssignmentMessageKind = index == 0 ? kind : .incremental
                    let message = write(
                        changes[part.changes], payloads: payloads, kind: partKind, size: part.bytes,
                        moreFollows: index + 1 < parts.count, appliesTo: number, digest: &digest)
                    messages.append(message)
                    number += 1
                }
            }
        }
        return messages
    }

    /// One message's share of the changes and its exact size.
    struct Part {
        var changes: Range<Int>
        var bytes: Int
    }

    /// Greedy split: each part takes changes until the next would overflow the budget.
    func partition(_ changes: [AssignmentDiff.Change]) throws(TaskDiffError) -> [Part] {
        var parts: [Part] = []
        var start = 0
        var size = AssignmentWireFormat.headerSize
        var previousKey: UInt64 = 0
        for (index, change) in changes.enumerated() {
            let deltaSize = encodedSize(change, keyDelta: index == start ? change.key : change.key - previousKey)
            if index > start && size + deltaSize > byteBudget {
                parts.append(Part(changes: start..<index, bytes: size))
                start = index
                size = AssignmentWireFormat.headerSize
            }
            let changeSize = index == start ? encodedSize(change, keyDelta: change.key) : deltaSize
            guard size + changeSize <= byteBudget else {
                throw .payloadTooLarge(
                    key: AssignmentKey(packed: change.key), bytes: Int(change.payloadLength), limit: maximumPayloadBytes
                )
            }
            size += changeSize
            previousKey = change.key
        }
        parts.append(Part(changes: start..<changes.count, bytes: size))
        return parts
    }

    private func encodedSize(_ change: AssignmentDiff.Change, keyDelta: UInt64) -> Int {
        AssignmentWireFormat.encodedSize(
            keyDelta: keyDelta, isRemoval: change.isRemoval, version: change.version,
            payloadLength: Int(change.payloadLength))
    }

    private func write(
        _ changes: UnsafeBufferPointer<AssignmentDiff.Change>.SubSequence, payloads: UnsafeRawBufferPointer,
        kind: AssignmentMessageKind, size: Int, moreFollows: Bool, appliesTo: UInt64, digest: inout UInt64
    ) -> AssignmentMessage {
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            guard let base = UnsafeMutableRawPointer(buffer.baseAddress) else { return }
            var offset = AssignmentWireFormat.headerSize
            var previousKey: UInt64?
            for change in changes {
                VarInt.write(previousKey.map { change.key - $0 } ?? change.key, to: base, at: &offset)
                previousKey = change.key
                digest &-= change.priorContribution
                digest &+= change.resultContribution
                if change.isRemoval {
                    VarInt.write(0, to: base, at: &offset)
                    continue
                }
                VarInt.write(UInt64(change.payloadLength) + 1, to: base, at: &offset)
                VarInt.write(change.version, to: base, at: &offset)
                let length = Int(change.payloadLength)
                if length > 0, let source = payloads.baseAddress {
                    (base + offset).copyMemory(from: source + Int(change.payloadOffset), byteCount: length)
                }
                offset += length
            }
            AssignmentWireFormat.writeHeader(
                to: base, kind: kind, moreFollows: moreFollows, resultsIn: appliesTo + 1, appliesTo: appliesTo,
                changeCount: UInt32(changes.count), stateDigest: digest)
            initialized = offset
        }
        return AssignmentMessage(
            kind: kind, resultsIn: appliesTo + 1, appliesTo: appliesTo, isFinalPart: !moreFollows,
            changeCount: changes.count, stateDigest: digest, bytes: bytes)
    }
}
