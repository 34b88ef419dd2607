import BeaconCore

/// A node's identity, as the transport authenticated it (SwarmKit takes it from the client's TLS
/// certificate).
///
/// Besides the string it carries a 64-bit fingerprint, computed once when the value is made: a
/// keyed SipHash with a key drawn at process start, so fingerprints cannot be chosen to collide
/// from outside. The heartbeat hot path compares fingerprints, never strings. Make one `NodeID`
/// per connection or agent and reuse it.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The identity as text.
    public let rawValue: String
    /// A keyed hash of ``rawValue``; equal ids have equal fingerprints within one process.
    public let fingerprint: UInt64

    /// An id; throws ``DispatcherError/invalidArgument(_:)`` for an empty string.
    public init(_ rawValue: String) throws(DispatcherError) {
        guard !rawValue.isEmpty else { throw .invalidArgument("a node id must not be empty") }
        self.rawValue = rawValue
        fingerprint = NodeID.fingerprintKey.hash(rawValue)
    }

    private static let fingerprintKey = SipHash24(
        k0: UInt64.random(in: .min ... .max), k1: UInt64.random(in: .min ... .max))

    public static func == (lhs: NodeID, rhs: NodeID) -> Bool {
        lhs.fingerprint == rhs.fingerprint && lhs.rawValue == rhs.rawValue
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(fingerprint)
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    public var description: String { rawValue }
}
