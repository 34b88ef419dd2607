/// A session lease in the coordination store: keys written under it vanish when it expires or
/// is revoked.
public struct LeaseID: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int64

    public init(_ rawValue: Int64) {
        self.rawValue = rawValue
    }

    /// Lowercase hexadecimal, as etcd's election recipe names candidate keys.
    public var hex: String { String(UInt64(bitPattern: rawValue), radix: 16) }
    public var description: String { hex }
}

/// A granted lease and the TTL the store actually gave it (etcd raises TTLs below 2 s).
public struct GrantedLease: Sendable, Hashable {
    /// The longest TTL a store grants: etcd's `MaxLeaseTTL`, 9 000 000 000 s (about 285 years).
    /// The embedded store holds to it too, so that code moving to etcd is refused nothing new.
    public static let longestTTL = Duration.seconds(9_000_000_000)

    public let id: LeaseID
    public let ttl: Duration

    public init(id: LeaseID, ttl: Duration) {
        self.id = id
        self.ttl = ttl
    }
}
