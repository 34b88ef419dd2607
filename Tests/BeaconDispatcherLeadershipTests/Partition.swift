import BeaconCoordination
import BeaconScheduler
import Synchronization

/// The shared store as seen by a manager cut off from it on the way out: while cut, every write
/// and lease call fails as an unreachable etcd's would, while reads and watches still arrive.
/// Its lease lapses; it still learns what the others decide.
final class Partition: CoordinationStore {
    private let base: any CoordinationStore
    private let isCut = Atomic<Bool>(false)

    init(_ base: any CoordinationStore) {
        self.base = base
    }

    func cut() { isCut.store(true, ordering: .sequentiallyConsistent) }
    func heal() { isCut.store(false, ordering: .sequentiallyConsistent) }

    private func check() throws(CoordinationError) {
        if isCut.load(ordering: .sequentiallyConsistent) { throw .failure("partitioned") }
    }

    func grantLease(ttl: Duration) async throws(CoordinationError) -> GrantedLease {
        try check()
        return try await base.grantLease(ttl: ttl)
    }

    func keepAlive(_ lease: LeaseID) async throws(CoordinationError) -> Bool {
        try check()
        return try await base.keepAlive(lease)
    }

    func revoke(_ lease: LeaseID) async throws(CoordinationError) {
        try check()
        try await base.revoke(lease)
    }

    func read(prefix: String) async throws(CoordinationError) -> StoreSnapshot {
        try await base.read(prefix: prefix)
    }

    func transaction(
        if conditions: [StoreCondition], then success: [StoreOperation], else failure: [StoreOperation]
    ) async throws(CoordinationError) -> TransactionOutcome {
        try check()
        return try await base.transaction(if: conditions, then: success, else: failure)
    }

    func watch(prefix: String, after revision: Int64) -> AsyncThrowingStream<[StoreChange], any Error> {
        base.watch(prefix: prefix, after: revision)
    }
}
