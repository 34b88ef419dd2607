/// The consistent store Beacon's layers coordinate through: etcd's v3 model, cut to what they
/// need — leases, range reads, transactions, and watches that resume from a revision. Scheduling
/// groups elect and agree through it; a dispatcher keeps its nodes, tasks and statuses in it.
///
/// ``InMemoryCoordinationStore`` is the embedded default; `EtcdCoordinationStore` (the
/// `BeaconCoordinationEtcd` module, trait `Etcd`) talks to a real etcd cluster. Code written
/// against this protocol runs the same on both.
public protocol CoordinationStore: Sendable {
    /// Grants a lease of about `ttl`; returns the TTL the store gave it.
    func grantLease(ttl: Duration) async throws(CoordinationError) -> GrantedLease
    /// Refreshes a lease. Returns false once the lease is gone (expired or revoked).
    func keepAlive(_ lease: LeaseID) async throws(CoordinationError) -> Bool
    /// Revokes a lease, deleting its keys; revoking a lease that is gone is not an error.
    func revoke(_ lease: LeaseID) async throws(CoordinationError)
    /// Every key under `prefix`, in key order.
    func read(prefix: String) async throws(CoordinationError) -> StoreSnapshot
    /// Applies `success` if every condition holds, else `failure`; returns whether they held and
    /// the store's revision after the transaction.
    ///
    /// - Throws: ``CoordinationError/leaseNotFound`` when a put names a lease the store does not
    ///   hold (nothing is written); ``CoordinationError/invalidArgument(_:)``, before anything is
    ///   sent, for an operation with an empty key or a key one branch puts twice, or puts and
    ///   deletes (etcd's "duplicate key given in txn request").
    func transaction(
        if conditions: [StoreCondition], then success: [StoreOperation], else failure: [StoreOperation]
    ) async throws(CoordinationError) -> TransactionOutcome
    /// Changes under `prefix` after `revision`, in order, batched as the store delivers them. The
    /// stream throws a ``CoordinationError`` when the watch breaks (the caller reads again and
    /// watches from the read's revision) — ``CoordinationError/compacted(compactRevision:)`` when
    /// `revision` is older than the history the store keeps, ``CoordinationError/failure(_:)``
    /// when the reader leaves more batches untaken than the store buffers for it (both stores:
    /// `watchBufferLimit`, 10 000 by default), after the ones buffered — and finishes when the
    /// task iterating it is cancelled.
    func watch(prefix: String, after revision: Int64) -> AsyncThrowingStream<[StoreChange], any Error>
}
