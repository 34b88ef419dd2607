/// Everything a ``CoordinationStore`` refuses or reports.
///
/// The cases a caller acts on are typed: a write under a lease that is gone
/// (``leaseNotFound``: register again under a new lease) and a watch that asked for history the
/// store no longer keeps (``compacted(compactRevision:)``: read again, then watch from the
/// read's revision). Everything else the store could not do is a ``failure(_:)``, which a caller
/// retries.
public enum CoordinationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An argument is out of range: a lease TTL that is not positive or longer than
    /// ``GrantedLease/longestTTL``, a watch after `Int64.max`, an endpoint that is not
    /// `http://host:port`.
    case invalidArgument(String)
    /// A write named a lease the store does not hold (it expired or was revoked); etcd's
    /// "requested lease not found".
    case leaseNotFound
    /// A watch asked to start at a revision older than the history the store keeps.
    /// `compactRevision`, when the store says, is where that history now begins (etcd's
    /// compaction revision): a watch can resume after `compactRevision - 1` at the earliest.
    case compacted(compactRevision: Int64?)
    /// The store could not be reached, refused the call, or answered with something that breaks
    /// the store's rules; the message says which.
    case failure(String)

    /// The failure that ends a watch whose reader left `batches` batches untaken.
    package static func behind(batches: Int) -> Self {
        .failure("watch: the reader left \(batches) batches untaken and fell behind; read again")
    }

    public var description: String {
        switch self {
        case .invalidArgument(let reason): reason
        case .leaseNotFound: "requested lease not found"
        case .compacted(let revision?): "watch: required revision has been compacted (at \(revision))"
        case .compacted(nil): "watch: required revision has been compacted"
        case .failure(let reason): reason
        }
    }
}
