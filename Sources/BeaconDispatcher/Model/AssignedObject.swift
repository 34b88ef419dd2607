public import BeaconCore

/// What one assignment's payload holds: a task, or a secret or config a task needs.
///
/// The dispatcher encodes each object into the payload of its assignment (see
/// `docs/dispatcher.md` for the layout); a node decodes it with ``init(decoding:)``, which
/// checks every length against the bytes left and never traps.
public enum AssignedObject: Sendable, Hashable {
    case task(DispatchedTask)
    case dependency(TaskDependency)

    /// The assignment kind the object travels under.
    public var kind: AssignmentKind {
        switch self {
        case .task: .task
        case .dependency(let dependency): dependency.kind == .secret ? .secret : .config
        }
    }

    private static let formatVersion: UInt8 = 1

    /// The payload bytes.
    public func encoded() -> [UInt8] {
        var writer = PayloadWriter()
        writer.byte(Self.formatVersion)
        switch self {
        case .task(let task):
            writer.byte(0)
            writer.string(task.id)
            writer.string(task.nodeID?.rawValue ?? "")
            writer.integer(UInt64(task.desiredState.rawValue))
            writer.integer(UInt64(task.status.state.rawValue))
            writer.string(task.status.message)
            writer.string(task.status.error)
            writer.bytes(task.spec)
            writer.strings(task.secrets)
            writer.strings(task.configs)
            writer.integer(task.version)
        case .dependency(let dependency):
            writer.byte(dependency.kind.rawValue)
            writer.string(dependency.id)
            writer.bytes(dependency.data)
            writer.integer(dependency.version)
        }
        return writer.output
    }

    /// Decodes a payload written by ``encoded()``.
    public init(decoding payload: some Collection<UInt8>) throws(AssignedObjectDecodingError) {
        var reader = PayloadReader(Array(payload))
        guard try reader.byte() == Self.formatVersion else { throw .unsupportedVersion }
        let tag = try reader.byte()
        switch tag {
        case 0:
            let id = try reader.string()
            let node = try reader.string()
            let desired = try reader.state()
            let state = try reader.state()
            let status = TaskStatus(state: state, message: try reader.string(), error: try reader.string())
            let spec = try reader.bytes()
            let secrets = try reader.strings()
            let configs = try reader.strings()
            let version = try reader.integer()
            self = .task(
                DispatchedTask(
                    id: id, nodeID: node.isEmpty ? nil : try? NodeID(node), desiredState: desired, status: status,
                    spec: spec, secrets: secrets, configs: configs, version: version))
        case DependencyKind.secret.rawValue, DependencyKind.config.rawValue:
            let kind: DependencyKind = tag == DependencyKind.secret.rawValue ? .secret : .config
            let id = try reader.string()
            let data = try reader.bytes()
            self = .dependency(TaskDependency(kind: kind, id: id, data: data, version: try reader.integer()))
        default:
            throw .unknownTag(tag)
        }
        guard reader.isAtEnd else { throw .trailingBytes }
    }
}

/// Why a payload could not be decoded.
public enum AssignedObjectDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    case truncated
    case unsupportedVersion
    case unknownTag(UInt8)
    case unknownTaskState(UInt64)
    case invalidText
    case trailingBytes

    public var description: String {
        switch self {
        case .truncated: "the payload ends inside a field"
        case .unsupportedVersion: "the payload's format version is not 1"
        case .unknownTag(let tag): "unknown object tag \(tag)"
        case .unknownTaskState(let raw): "unknown task state \(raw)"
        case .invalidText: "a text field is not valid UTF-8"
        case .trailingBytes: "bytes follow the object"
        }
    }
}

/// Little-endian fixed 8-byte integers and 4-byte length prefixes: simple to check, and the
/// payload is small next to the task spec it carries.
private struct PayloadWriter {
    var output: [UInt8] = []

    mutating func byte(_ value: UInt8) {
        output.append(value)
    }

    mutating func integer(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { output.append(contentsOf: $0) }
    }

    mutating func bytes(_ value: [UInt8]) {
        withUnsafeBytes(of: UInt32(value.count).littleEndian) { output.append(contentsOf: $0) }
        output.append(contentsOf: value)
    }

    mutating func string(_ value: String) {
        bytes(Array(value.utf8))
    }

    mutating func strings(_ values: [String]) {
        withUnsafeBytes(of: UInt32(values.count).littleEndian) { output.append(contentsOf: $0) }
        for value in values { string(value) }
    }
}

private struct PayloadReader {
    let input: [UInt8]
    var offset = 0

    init(_ input: [UInt8]) {
        self.input = input
    }

    var isAtEnd: Bool { offset == input.count }

    mutating func take(_ count: Int) throws(AssignedObjectDecodingError) -> ArraySlice<UInt8> {
        guard count >= 0, input.count - offset >= count else { throw .truncated }
        defer { offset += count }
        return input[offset..<offset + count]
    }

    mutating func byte() throws(AssignedObjectDecodingError) -> UInt8 {
        try take(1).first!
    }

    mutating func integer() throws(AssignedObjectDecodingError) -> UInt64 {
        try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func length() throws(AssignedObjectDecodingError) -> Int {
        Int(try take(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
    }

    mutating func bytes() throws(AssignedObjectDecodingError) -> [UInt8] {
        Array(try take(try length()))
    }

    mutating func string() throws(AssignedObjectDecodingError) -> String {
        let raw = try take(try length())
        guard let text = String(validating: raw, as: UTF8.self) else { throw .invalidText }
        return text
    }

    mutating func strings() throws(AssignedObjectDecodingError) -> [String] {
        let count = try length()
        // Each string needs at least its 4-byte length: refuse counts the bytes cannot hold.
        guard count <= (input.count - offset) / 4 else { throw .truncated }
        var values: [String] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try string()) }
        return values
    }

    mutating func state() throws(AssignedObjectDecodingError) -> TaskState {
        let raw = try integer()
        guard raw <= UInt64(UInt16.max), let state = TaskState(rawValue: UInt16(raw)) else {
            throw .unknownTaskState(raw)
        }
        return state
    }
}
