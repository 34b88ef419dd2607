import BeaconPrimitives
import BeaconCore

/// A result set once and awaited by any number of tasks: how a runtime reports that it stopped,
/// or that a worker's exit was acknowledged.
final class OutcomeLatch: Sendable {
    private struct State {
        var outcome: Result<Void, MasterWorkerError>?
        var waiters: [CheckedContinuation<Result<Void, MasterWorkerError>, Never>] = []
    }

    private let state = PosixMutex(State())

    /// Sets the outcome; later calls are ignored. Returns whether this call set it.
    @discardableResult
    func settle(_ outcome: Result<Void, MasterWorkerError>) -> Bool {
        let waiters = state.withLock { state -> [CheckedContinuation<Result<Void, MasterWorkerError>, Never>]? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume(returning: outcome) }
        return true
    }

    /// The outcome once settled, or nil.
    var outcome: Result<Void, MasterWorkerError>? { state.withLock { $0.outcome } }

    /// Waits for the outcome.
    func wait() async throws(MasterWorkerError) {
        let outcome = await withCheckedContinuation { waiter in
            let settled = state.withLock { state in
                if state.outcome == nil { state.waiters.append(waiter) }
                return state.outcome
            }
            if let settled { waiter.resume(returning: settled) }
        }
        try outcome.get()
    }
}
