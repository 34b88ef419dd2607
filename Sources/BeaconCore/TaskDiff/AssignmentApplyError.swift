/// Why a receiver refused a message. After any of these except ``malformed(_:)`` the receiver
/// needs a COMPLETE message: ask the sender for one (SwarmKit's agent reopens its stream).
public enum AssignmentApplyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The bytes are not a valid message; nothing was applied.
    case malformed(AssignmentDecodingError)
    /// The message applies to a different message than the last one applied: one was lost,
    /// repeated or reordered. Nothing was applied.
    case sequenceGap(lastApplied: UInt64?, appliesTo: UInt64)
    /// The receiver is waiting for a COMPLETE message (none has arrived yet, or an earlier
    /// message failed) and refuses INCREMENTAL ones until then.
    case awaitingComplete(resultsIn: UInt64)
    /// After applying the message, the receiver's set does not have the digest the sender
    /// computed: the two disagree about the set. The receiver's state is no longer trusted.
    case digestMismatch(expected: UInt64, actual: UInt64)

    public var description: String {
        switch self {
        case .malformed(let error):
            "malformed assignment message: \(error)"
        case .sequenceGap(let lastApplied, let appliesTo):
            "sequence gap: the message applies to \(appliesTo) but the last message applied was \(lastApplied.map(String.init) ?? "none"); a COMPLETE set is needed"
        case .awaitingComplete(let resultsIn):
            "message \(resultsIn) is INCREMENTAL but a COMPLETE set is needed first"
        case .digestMismatch(let expected, let actual):
            "the set after applying has digest \(hex(actual)), the sender's has \(hex(expected)); a COMPLETE set is needed"
        }
    }
}
