/// Why bytes were refused as an assignment message. Offsets are byte positions in the message.
public enum AssignmentDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The message ends before a field it announces: the header, a change, or a payload.
    case truncated(offset: Int, needed: String)
    /// The message is larger than the receiver accepts.
    case oversized(bytes: Int, limit: Int)
    /// The first four bytes are not "BTDF".
    case notAnAssignmentMessage
    /// A format version this decoder does not know.
    case unsupportedVersion(UInt8)
    /// A kind byte other than COMPLETE (1) or INCREMENTAL (2).
    case unknownKind(UInt8)
    /// A reserved bit or byte of the header is set.
    case reservedBitsSet(offset: Int)
    /// resultsIn is 0, or appliesTo does not precede it (INCREMENTAL: appliesTo + 1 == resultsIn;
    /// COMPLETE: appliesTo < resultsIn).
    case invalidSequence(resultsIn: UInt64, appliesTo: UInt64)
    /// The header announces more changes than the body could hold.
    case countExceedsBody(count: Int, bodyBytes: Int)
    /// A varint longer than ten bytes, above 64 bits, or not in its shortest form.
    case malformedVarint(offset: Int)
    /// A key delta of 0: the same key twice.
    case duplicateKey(AssignmentKey, offset: Int)
    /// A key delta that passes the end of the key space.
    case keyOverflow(offset: Int)
    /// A COMPLETE message holds a removal; it describes a whole set and has nothing to remove.
    case removalInComplete(AssignmentKey)
    /// Bytes after the last announced change.
    case trailingBytes(count: Int)

    public var description: String {
        switch self {
        case .truncated(let offset, let needed):
            "assignment message truncated at byte \(offset): \(needed) is missing"
        case .oversized(let bytes, let limit):
            "assignment message of \(bytes) bytes exceeds the limit of \(limit)"
        case .notAnAssignmentMessage:
            "not an assignment message: the magic bytes are not \"BTDF\""
        case .unsupportedVersion(let version):
            "assignment message format version \(version) is not supported (this decoder reads version \(AssignmentWireFormat.version))"
        case .unknownKind(let kind):
            "unknown assignment message kind \(kind) (1 is COMPLETE, 2 INCREMENTAL)"
        case .reservedBitsSet(let offset):
            "reserved header bits are set at byte \(offset)"
        case .invalidSequence(let resultsIn, let appliesTo):
            "invalid sequence: resultsIn \(resultsIn), appliesTo \(appliesTo)"
        case .countExceedsBody(let count, let bodyBytes):
            "the header announces \(count) changes, more than \(bodyBytes) body bytes can hold"
        case .malformedVarint(let offset):
            "malformed varint at byte \(offset)"
        case .duplicateKey(let key, let offset):
            "\(key) appears twice (byte \(offset)); keys must be strictly ascending"
        case .keyOverflow(let offset):
            "the key delta at byte \(offset) passes the end of the key space"
        case .removalInComplete(let key):
            "a COMPLETE message removes \(key); it may only hold upserts"
        case .trailingBytes(let count):
            "\(count) bytes follow the last change"
        }
    }
}
