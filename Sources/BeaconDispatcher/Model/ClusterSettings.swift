/// A key nodes use to encrypt overlay network traffic.
public struct EncryptionKey: Sendable, Hashable {
    public var subsystem: String
    public var algorithm: String
    public var key: [UInt8]
    public var lamportTime: UInt64

    public init(subsystem: String, algorithm: String, key: [UInt8], lamportTime: UInt64) {
        self.subsystem = subsystem
        self.algorithm = algorithm
        self.key = key
        self.lamportTime = lamportTime
    }
}

/// The cluster-wide values every session message carries.
public struct ClusterSettings: Sendable, Hashable {
    public var networkBootstrapKeys: [EncryptionKey]
    /// The root certificate authority, PEM or DER, as the store holds it.
    public var rootCA: [UInt8]

    public init(networkBootstrapKeys: [EncryptionKey] = [], rootCA: [UInt8] = []) {
        self.networkBootstrapKeys = networkBootstrapKeys
        self.rootCA = rootCA
    }
}

/// A manager a node may connect to, and how strongly to prefer it.
public struct WeightedManager: Sendable, Hashable {
    public var nodeID: String
    public var address: String
    /// SwarmKit gives every manager 10 (`remotes.DefaultObservationWeight`).
    public var weight: Int

    public init(nodeID: String, address: String, weight: Int = 10) {
        self.nodeID = nodeID
        self.address = address
        self.weight = weight
    }
}

/// What a node's session stream carries: always the whole picture, never a delta.
public struct SessionMessage: Sendable, Hashable {
    public var sessionID: SessionID
    /// The node as the store holds it.
    public var node: Node
    public var managers: [WeightedManager]
    public var networkBootstrapKeys: [EncryptionKey]
    public var rootCA: [UInt8]
    /// True on the last message before the dispatcher stops: find another manager.
    public var disconnect: Bool
}
