public import BeaconCore

/// Why a message of the assignment stream was refused before anything was applied.
public enum AssignmentsMessageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The diff bytes are not a valid assignment message.
    case malformedDiff(AssignmentDecodingError)
    /// The message's copies of the kind and sequence numbers disagree with its diff.
    case headerMismatch(kind: Int, appliesTo: UInt64, resultsIn: UInt64, diff: String)

    public var description: String {
        switch self {
        case .malformedDiff(let error): "malformed assignment diff: \(error)"
        case .headerMismatch(let kind, let appliesTo, let resultsIn, let diff):
            "the message says kind \(kind), \(appliesTo) → \(resultsIn), but its diff is \(diff)"
        }
    }
}
