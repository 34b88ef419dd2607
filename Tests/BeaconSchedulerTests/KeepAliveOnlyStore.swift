@testable import BeaconCoordination

/// A store that only refreshes leases, for tests of lease keeping: every other call fails, and
/// watches end at once.
protocol KeepAliveOnlyStore: CoordinationStore {}

extension KeepAliveOnlyStore {
    func grantLease(ttl: Duration) async throws(CoordinationError) -> GrantedLease { throw .failure("unused") }
    func revoke(_ lease: LeaseID) async throws(CoordinationError) { throw .failure("unused") }
    func read(prefix: String) async throws(CoordinationError) -> StoreSnapshot { throw .failure("unused") }
    func transaction(
        if conditions: [StoreCondition], then success: [StoreOperation], else failure: [StoreOperation]
    ) async throws(CoordinationError) -> TransactionOutcome {
        throw .failure("unused")
    }
    func watch(prefix: String, after revision: Int64) -> AsyncThrowingStream<[StoreChange], any Error> {
        AsyncThrowingStream { $0.finish() }
    }
}
