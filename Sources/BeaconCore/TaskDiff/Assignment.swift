/// One assignment as a standalone value: its key, its version and its payload.
///
/// The version says which revision of the object the payload holds (SwarmKit uses the store's
/// raft index). Sets, diffs and messages treat an entry as changed when its version or its
/// payload bytes change. The payload is opaque: Beacon stores, compares by digest and ships it,
/// and never looks inside.
public struct Assignment: Hashable, Sendable, CustomStringConvertible {
    public var key: AssignmentKey
    public var version: UInt64
    public var payload: [UInt8]

    public init(key: AssignmentKey, version: UInt64, payload: [UInt8]) {
        self.key = key
        self.version = version
        self.payload = payload
    }

    public var description: String { "\(key) v\(version) (\(payload.count) bytes)" }
}

/// One entry of an ``AssignmentDiff`` or of a decoded message, as a standalone value.
public enum AssignmentChange: Hashable, Sendable, CustomStringConvertible {
    /// Insert the assignment, or replace the entry with its key.
    case upsert(Assignment)
    /// Delete the entry with this key; a receiver that does not hold it ignores the removal.
    case removal(AssignmentKey)

    public var key: AssignmentKey {
        switch self {
        case .upsert(let assignment): assignment.key
        case .removal(let key): key
        }
    }

    public var description: String {
        switch self {
        case .upsert(let assignment): "upsert \(assignment)"
        case .removal(let key): "remove \(key)"
        }
    }
}
