/// What an assignment is: a task, or an object a task needs on the node (a secret, a config, a
/// volume). The kind is part of an assignment's key, so a task and a secret may share an id.
///
/// Kinds are open: the four SwarmKit kinds are predefined, and any other byte value may be used
/// for kinds of your own.
public struct AssignmentKind: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    public static let task = AssignmentKind(rawValue: 0)
    public static let secret = AssignmentKind(rawValue: 1)
    public static let config = AssignmentKind(rawValue: 2)
    public static let volume = AssignmentKind(rawValue: 3)

    public static func < (lhs: AssignmentKind, rhs: AssignmentKind) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    public var description: String {
        switch self {
        case .task: "task"
        case .secret: "secret"
        case .config: "config"
        case .volume: "volume"
        default: "kind \(rawValue)"
        }
    }
}

/// The identity of one assignment: its kind and an integer id, packed into one 64-bit word.
///
/// Ids are integers, not strings, so that diffing two sets compares one machine word per entry.
/// The layer above interns its string ids (a task's UUID, a secret's name) into these integers.
/// The kind occupies the top eight bits, so keys sort by kind, then by id, and that order is the
/// order of every set, diff and message.
public struct AssignmentKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The largest id a key can hold: ids have 56 bits.
    public static let maximumID: UInt64 = (1 << 56) - 1

    /// The kind in the top 8 bits, the id in the low 56.
    public let packed: UInt64

    /// A key for `id` of `kind`; throws ``TaskDiffError/idOutOfRange(_:)`` above ``maximumID``.
    public init(_ kind: AssignmentKind, id: UInt64) throws(TaskDiffError) {
        guard id <= Self.maximumID else { throw .idOutOfRange(id) }
        packed = UInt64(kind.rawValue) << 56 | id
    }

    /// The key whose packed form is `packed`. Every 64-bit value is a valid key.
    public init(packed: UInt64) {
        self.packed = packed
    }

    public var kind: AssignmentKind { AssignmentKind(rawValue: UInt8(truncatingIfNeeded: packed >> 56)) }
    public var id: UInt64 { packed & Self.maximumID }

    public static func < (lhs: AssignmentKey, rhs: AssignmentKey) -> Bool {
        lhs.packed < rhs.packed
    }

    public var description: String { "\(kind) \(id)" }
}
