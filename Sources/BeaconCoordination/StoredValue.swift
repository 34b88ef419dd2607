/// One key in the coordination store, with etcd's revisions: `createRevision` orders election
/// candidates, `modRevision` fences optimistic writes.
public struct StoredValue: Sendable, Hashable {
    public var key: String
    public var value: String
    public var createRevision: Int64
    public var modRevision: Int64
    /// The lease the key is bound to; nil for a key that persists.
    public var lease: LeaseID?

    public init(key: String, value: String, createRevision: Int64, modRevision: Int64, lease: LeaseID?) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.lease = lease
    }
}

/// A change a watch reports, in revision order.
public enum StoreChange: Sendable, Hashable {
    case put(StoredValue)
    case delete(key: String, revision: Int64)

    public var revision: Int64 {
        switch self {
        case .put(let value): value.modRevision
        case .delete(_, let revision): revision
        }
    }

    /// The key that was written or deleted.
    public var key: String {
        switch self {
        case .put(let value): value.key
        case .delete(let key, _): key
        }
    }
}

/// A condition of a transaction, on one key.
public enum StoreCondition: Sendable, Hashable {
    /// The key's create revision equals this (0 means the key is absent).
    case createRevision(key: String, equals: Int64)
    /// The key's mod revision equals this (0 means the key is absent).
    case modRevision(key: String, equals: Int64)
    /// The key's value equals this (false if the key is absent).
    case value(key: String, equals: String)
    /// The key is bound to this lease (false if the key is absent).
    case lease(key: String, equals: LeaseID)
}

/// A write of a transaction.
public enum StoreOperation: Sendable, Hashable {
    case put(key: String, value: String, lease: LeaseID?)
    case delete(key: String)

    /// Refuses, with ``CoordinationError/invalidArgument(_:)``, a branch of a transaction that
    /// etcd refuses: an operation with an empty key, or a key that one branch puts twice, or puts
    /// and deletes. Both stores check it before anything is written, so a layer tested on the
    /// embedded store meets the refusal it would meet on etcd.
    ///
    /// Keys are compared by their bytes, as etcd compares them: two keys that are canonically
    /// equivalent Unicode but spelt differently are two keys.
    package static func check(branch operations: [StoreOperation]) throws(CoordinationError) {
        var puts: Set<[UInt8]> = []
        var deletes: Set<[UInt8]> = []
        for operation in operations {
            switch operation {
            case .put(let key, _, _):
                guard !key.isEmpty else { throw .invalidArgument("transaction: a put has an empty key") }
                let bytes = Array(key.utf8)
                guard !deletes.contains(bytes), puts.insert(bytes).inserted else {
                    throw .invalidArgument("transaction: one branch writes \(key.debugDescription) twice")
                }
            case .delete(let key):
                guard !key.isEmpty else { throw .invalidArgument("transaction: a delete has an empty key") }
                let bytes = Array(key.utf8)
                guard !puts.contains(bytes) else {
                    throw .invalidArgument("transaction: one branch writes \(key.debugDescription) twice")
                }
                deletes.insert(bytes)
            }
        }
    }
}

/// What a transaction did.
public struct TransactionOutcome: Sendable, Hashable {
    /// Whether every condition held (so the `then` branch ran).
    public var succeeded: Bool
    /// The store's revision after the transaction: the revision of its writes when it wrote.
    public var revision: Int64

    public init(succeeded: Bool, revision: Int64) {
        self.succeeded = succeeded
        self.revision = revision
    }
}

/// A range read: the values under a prefix and the store revision they were read at, from which
/// a watch continues without a gap.
public struct StoreSnapshot: Sendable {
    public var values: [StoredValue]
    public var revision: Int64

    public init(values: [StoredValue], revision: Int64) {
        self.values = values
        self.revision = revision
    }
}
