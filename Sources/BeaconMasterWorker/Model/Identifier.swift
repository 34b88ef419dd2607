/// What an ``Identifier`` names; only used as a type tag so a worker ID cannot be passed where an
/// executor ID is expected.
public protocol IdentifierKind: Sendable {
    /// The word used in error messages ("worker", "master", "executor").
    static var noun: String { get }
}

/// A non-empty name of at most 256 UTF-8 bytes that contains no control characters.
///
/// Identifiers end up in message topics, log lines and SQLite rows, so they are checked once,
/// where they enter the library.
public struct Identifier<Kind: IdentifierKind>: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The name as given.
    public let rawValue: String

    /// The longest identifier accepted, in UTF-8 bytes.
    public static var maximumLength: Int { 256 }

    /// - Throws: ``MasterWorkerError/invalidIdentifier(_:)`` for an empty, over-long or
    ///   control-character name.
    public init(_ rawValue: String) throws(MasterWorkerError) {
        guard !rawValue.isEmpty else { throw .invalidIdentifier("a \(Kind.noun) ID must not be empty") }
        guard rawValue.utf8.count <= Self.maximumLength else {
            throw .invalidIdentifier(
                "a \(Kind.noun) ID must be at most \(Self.maximumLength) UTF-8 bytes, got \(rawValue.utf8.count)")
        }
        guard !rawValue.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidIdentifier(
                "a \(Kind.noun) ID must not contain control characters: \(rawValue.debugDescription)")
        }
        self.rawValue = rawValue
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        try self.init(raw)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { rawValue }
}

/// Tag of ``WorkerID``.
public enum WorkerKind: IdentifierKind { public static var noun: String { "worker" } }
/// Tag of ``MasterID``.
public enum MasterKind: IdentifierKind { public static var noun: String { "master" } }
/// Tag of ``ExecutorID``.
public enum ExecutorKind: IdentifierKind { public static var noun: String { "executor" } }

/// A worker's name, unique under its master (a job master is also a worker of its job manager).
public typealias WorkerID = Identifier<WorkerKind>
/// A master's name; it also names the job whose epoch counter fences it.
public typealias MasterID = Identifier<MasterKind>
/// The node (executor) a master or worker runs on: where messages for it are sent.
public typealias ExecutorID = Identifier<ExecutorKind>
