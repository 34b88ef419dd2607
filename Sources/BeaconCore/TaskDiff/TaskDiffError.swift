/// Why building an assignment set, a diff, a batch or a message was refused.
public enum TaskDiffError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An id above ``AssignmentKey/maximumID``.
    case idOutOfRange(UInt64)
    /// The same key was given twice when building a set.
    case duplicateKey(AssignmentKey)
    /// One payload, or the payloads of one set together, exceed what the format can address.
    case payloadTooLarge(key: AssignmentKey, bytes: Int, limit: Int)
    /// A diff was applied to a set other than the one it was computed from.
    case baseMismatch(expectedDigest: UInt64, actualDigest: UInt64)
    /// A COMPLETE message can only be made from a diff whose base is the empty set.
    case completeNeedsEmptyBase(baseCount: Int)
    /// A configuration value is out of range.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .idOutOfRange(let id):
            "assignment id \(id) is above the largest id, \(AssignmentKey.maximumID) (ids have 56 bits)"
        case .duplicateKey(let key):
            "\(key) appears twice; an assignment set holds one entry per key"
        case .payloadTooLarge(let key, let bytes, let limit):
            "the payload of \(key) is \(bytes) bytes; at most \(limit) fit (in one message under the byte budget, or in one set)"
        case .baseMismatch(let expected, let actual):
            "the diff was computed from a set with digest \(hex(expected)) but applied to one with digest \(hex(actual))"
        case .completeNeedsEmptyBase(let baseCount):
            "a COMPLETE message must describe a whole set, but this diff starts from a set of \(baseCount) entries"
        case .invalidConfiguration(let reason):
            "invalid task-diff configuration: \(reason)"
        }
    }
}

/// A 64-bit digest as sixteen hex digits, for error messages.
func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}
