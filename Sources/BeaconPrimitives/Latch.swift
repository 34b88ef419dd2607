/// A value set once, awaited by any number of tasks: a registration waiting for its write to
/// commit, a runtime waiting for its worker's outcome. Waiting after the value is set returns it
/// at once; setting it again is refused.
package final class Latch<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiters: [CheckedContinuation<Value, Never>] = []
    }

    private let state = PosixMutex(State())

    package init() {}

    /// Sets the value and wakes every waiter. Returns false, and changes nothing, if it was set.
    @discardableResult
    package func settle(_ value: Value) -> Bool {
        let waiters = state.withLock { state -> [CheckedContinuation<Value, Never>]? in
            guard state.value == nil else { return nil }
            state.value = value
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume(returning: value) }
        return true
    }

    /// The value, nil until it is set.
    package var value: Value? { state.withLock { $0.value } }

    /// Returns the value once it is set.
    package func wait() async -> Value {
        await withCheckedContinuation { waiter in
            let settled = state.withLock { state in
                if state.value == nil { state.waiters.append(waiter) }
                return state.value
            }
            if let settled { waiter.resume(returning: settled) }
        }
    }

    /// Returns the value once it is set; if the task is cancelled first, calls `onCancel` (which is
    /// expected to settle the latch, as stopping a runtime does) and keeps waiting for the value.
    package func wait(onCancel: @Sendable () -> Void) async -> Value {
        await withTaskCancellationHandler {
            await wait()
        } onCancel: {
            onCancel()
        }
    }
}
