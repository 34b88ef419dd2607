import BeaconCoordination
import BeaconPrimitives
import BeaconScheduler
import Synchronization

/// The shared store as seen by a manager cut off from it on the way out: while cut, every write
/// and lease call fails as an unreachable etcd's would, while reads and watches still arrive.
/// Its lease lapses; it still learns what the others decide.
///
/// While held, writes and lease calls neither fail nor answer: they reach the store only once
/// healed, as the requests of a paused process (SIGSTOP, a long GC pause) go out when it resumes,
/// built from what it knew before the pause.
final class Partition: CoordinationStore {
    private let base: any CoordinationStore
    private let isCut = Atomic<Bool>(false)
    private let isHeld = Atomic<Bool>(false)
    private let stalledPrefix = PosixMutex<String?>(nil)

    /// Whether watches go through a task that can stall them (``stallWatches(of:)``); without
    /// it they are the base store's own, with no hop added to their timing.
    private let stallable: Bool

    init(_ base: any CoordinationStore, stallableWatches: Bool = false) {
        self.base = base
        stallable = stallableWatches
    }

    func cut() { isCut.store(true, ordering: .sequentiallyConsistent) }
    func hold() { isHeld.store(true, ordering: .sequentiallyConsistent) }
    func heal() {
        isCut.store(false, ordering: .sequentiallyConsistent)
        isHeld.store(false, ordering: .sequentiallyConsistent)
    }

    private func check() async throws(CoordinationError) {
        while isHeld.load(ordering: .sequentiallyConsistent) {
            // Polls in real time (the held calls are the paused process's, not the test's
            // clock's), in a task of its own so that a cancelled caller waits too, not spins.
            await Task.detached { try? await Task.sleep(for: .milliseconds(2)) }.value
        }
        if isCut.load(ordering: .sequentiallyConsistent) { throw .failure("partitioned") }
    }

    func grantLease(ttl: Duration) async throws(CoordinationError) -> GrantedLease {
        try await check()
        return try await base.grantLease(ttl: ttl)
    }

    func keepAlive(_ lease: LeaseID) async throws(CoordinationError) -> Bool {
        try await check()
        return try await base.keepAlive(lease)
    }

    func revoke(_ lease: LeaseID) async throws(CoordinationError) {
        try await check()
        try await base.revoke(lease)
    }

    func read(prefix: String) async throws(CoordinationError) -> StoreSnapshot {
        try await base.read(prefix: prefix)
    }

    func transaction(
        if conditions: [StoreCondition], then success: [StoreOperation], else failure: [StoreOperation]
    ) async throws(CoordinationError) -> TransactionOutcome {
        try await check()
        return try await base.transaction(if: conditions, then: success, else: failure)
    }

    /// From now on, watches of `prefix` (open ones too) deliver nothing and never fail, as a
    /// watch on a half-open connection does; what they would have delivered is lost. Needs
    /// `stallableWatches`.
    func stallWatches(of prefix: String) {
        precondition(stallable, "a Partition made without stallableWatches cannot stall its watches")
        stalledPrefix.withLock { $0 = prefix }
    }

    func watch(prefix: String, after revision: Int64) -> AsyncThrowingStream<[StoreChange], any Error> {
        let changes = base.watch(prefix: prefix, after: revision)
        guard stallable else { return changes }
        let stalledPrefix = stalledPrefix
        return AsyncThrowingStream { continuation in
            let forwarding = Task {
                do {
                    for try await batch in changes where stalledPrefix.withLock({ $0 }) != prefix {
                        continuation.yield(batch)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in forwarding.cancel() }
        }
    }
}
