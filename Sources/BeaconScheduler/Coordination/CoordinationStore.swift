/// The consistent store a scheduling group coordinates through: etcd's v3 model, cut to what the
/// scheduler needs — leases, range reads, transactions, and watches that resume from a revision.
///
/// ``InMemoryCoordinationStore`` is the embedded default; `EtcdCoordinationStore` (the
/// `BeaconSchedulerEtcd` module, trait `Etcd`) talks to a real etcd cluster. The participant
/// logic is the same for both.
public protocol CoordinationStore: Sendable {
    /// Grants a lease of about `ttl`; returns the TTL the store gave it.
    func grantLease(ttl: Duration) async throws(SchedulerError) -> GrantedLease
    /// Refreshes a lease. Returns false once the lease is gone (expired or revoked).
    func keepAlive(_ lease: LeaseID) async throws(SchedulerError) -> Bool
    /// Revokes a lease, deleting its keys; revoking a lease that is gone is not an error.
    func revoke(_ lease: LeaseID) async throws(SchedulerError)
    /// Every key under `prefix`, in key order.
    func read(prefix: String) async throws(SchedulerError) -> StoreSnapshot
    /// Applies `success` if every condition holds, else `failure`; returns whether they held.
    func transaction(
        if conditions: [StoreCondition], then success: [StoreOperation], else failure: [StoreOperation]
    ) async throws(SchedulerError) -> Bool
    /// Changes under `prefix` after `revision`, in order, batched as the store delivers them. The
    /// stream throws ``SchedulerError/backendFailure(_:)`` when the watch breaks (the caller reads
    /// again and re-watches) and finishes when the task iterating it is cancelled.
    func watch(prefix: String, after revision: Int64) -> AsyncThrowingStream<[StoreChange], any Error>
}
