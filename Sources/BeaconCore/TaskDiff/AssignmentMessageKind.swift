/// Whether a message replaces the receiver's whole set or changes it.
public enum AssignmentMessageKind: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// The receiver drops everything it holds and starts from this message's upserts.
    case complete = 1
    /// The receiver applies this message's upserts and removals to the set it holds, which must
    /// be the result of the message numbered `appliesTo`.
    case incremental = 2

    public var description: String {
        switch self {
        case .complete: "COMPLETE"
        case .incremental: "INCREMENTAL"
        }
    }
}
