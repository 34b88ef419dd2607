/// The receiving end of an assignment stream: keeps a node's current set and applies messages
/// in sequence.
///
/// A COMPLETE message is always accepted and replaces the set. An INCREMENTAL one is applied only
/// when its `appliesTo` is the last message applied; otherwise it is refused as a gap. After
/// each message the set's digest must equal the one the sender stamped on it. A gap or a digest
/// mismatch leaves the applier waiting for a COMPLETE message: ``needsComplete`` turns true and
/// every INCREMENTAL message is refused until one arrives. A malformed message is refused whole,
/// before anything is applied.
///
/// Act on the set (start and stop work) when ``isSettled`` is true: while a split batch is
/// arriving, the set holds only its first parts.
public struct AssignmentApplier: Sendable {
    /// The set as of the last applied message.
    public private(set) var table = AssignmentTable()
    /// `resultsIn` of the last applied message, or nil before the first.
    public private(set) var lastApplied: UInt64?
    /// True until a COMPLETE message is applied, and again after a gap or digest mismatch.
    public private(set) var needsComplete = true
    /// True when the last applied message was the final part of its batch.
    public private(set) var isSettled = false
    /// Messages larger than this are refused as malformed.
    public let maximumMessageSize: Int

    public init(maximumMessageSize: Int = AssignmentMessage.defaultMaximumSize) {
        self.maximumMessageSize = maximumMessageSize
    }

    /// Decodes `bytes` and applies the message; see ``apply(_:)-(AssignmentMessage)``.
    @discardableResult
    public mutating func apply(bytes: [UInt8]) throws(AssignmentApplyError) -> AssignmentMessage {
        let message: AssignmentMessage
        do {
            message = try AssignmentMessage(decoding: bytes, maximumSize: maximumMessageSize)
        } catch {
            throw .malformed(error)
        }
        try apply(message)
        return message
    }

    /// Applies a decoded message.
    public mutating func apply(_ message: AssignmentMessage) throws(AssignmentApplyError) {
        switch message.kind {
        case .complete:
            table.removeAll()
            table.reserveCapacity(message.changeCount)
        case .incremental:
            if needsComplete { throw .awaitingComplete(resultsIn: message.resultsIn) }
            guard message.appliesTo == lastApplied else {
                needsComplete = true
                throw .sequenceGap(lastApplied: lastApplied, appliesTo: message.appliesTo)
            }
        }
        var tooLarge = false
        message.forEachChange { change, payload in
            if change.isRemoval {
                _ = table.remove(change.key)
            } else {
                do {
                    _ = try table.upsert(change.key, version: change.version, payload: payload)
                } catch {
                    tooLarge = true
                }
            }
        }
        lastApplied = message.resultsIn
        guard !tooLarge, table.digest == message.stateDigest else {
            needsComplete = true
            isSettled = false
            throw .digestMismatch(expected: message.stateDigest, actual: table.digest)
        }
        needsComplete = false
        isSettled = message.isFinalPart
    }

    /// Forgets the set and waits for a COMPLETE message, as after a reconnect.
    public mutating func reset() {
        table.removeAll()
        lastApplied = nil
        needsComplete = true
        isSettled = false
    }
}
