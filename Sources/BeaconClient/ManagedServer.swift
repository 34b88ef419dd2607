/// A server a client can talk to. Identity is the name (Consul's `Key()`): adding a server with
/// a known name updates it in place. A class, so that ``ServerManager/find()`` hands out one
/// reference (one retain) rather than copying two strings.
public final class ManagedServer: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let address: String
    /// Preference in a rebalance: servers with more weight tend to come first. All equal (the
    /// default) gives Consul's uniform shuffle.
    public let weight: Double

    /// - Throws: ``ClientError/invalidServer(_:)`` for an empty name or a weight that is not
    ///   finite and positive.
    public init(name: String, address: String, weight: Double = 1) throws(ClientError) {
        guard !name.isEmpty else { throw .invalidServer("a server needs a name") }
        guard weight.isFinite, weight > 0 else {
            throw .invalidServer("server \(name): weight must be finite and positive, not \(weight)")
        }
        self.name = name
        self.address = address
        self.weight = weight
    }

    public static func == (lhs: ManagedServer, rhs: ManagedServer) -> Bool {
        lhs.name == rhs.name && lhs.address == rhs.address && lhs.weight == rhs.weight
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(address)
        hasher.combine(weight)
    }

    public var description: String { "\(name)@\(address)" }
}

/// What the client layer refuses.
public enum ClientError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidServer(String)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .invalidServer(let reason): "invalid server: \(reason)"
        case .invalidConfiguration(let reason): "invalid client configuration: \(reason)"
        }
    }
}
