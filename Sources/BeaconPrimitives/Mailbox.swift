/// A loop's inbox: producers push without waiting, and the one consumer takes everything queued
/// at once, so a burst of inputs costs one pass of its logic instead of one per input (the
/// scheduler's participant takes its watch events and lease news this way).
package final class Mailbox<Input: Sendable>: Sendable {
    private struct State {
        var items: [Input] = []
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = PosixMutex(State())

    package init() {}

    package func push(_ input: Input) {
        let waiter = state.withLock { state in
            state.items.append(input)
            return state.waiter.take()
        }
        waiter?.resume()
    }

    /// Everything queued, waiting for at least one item; nil once the calling task is cancelled.
    package func takeAll() async -> [Input]? {
        while !Task.isCancelled {
            let items = state.withLock { state in
                defer { state.items = [] }
                return state.items
            }
            if !items.isEmpty { return items }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let ready = state.withLock { state -> Bool in
                        guard state.items.isEmpty, !Task.isCancelled else { return true }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            } onCancel: {
                state.withLock { $0.waiter.take() }?.resume()
            }
        }
        return nil
    }
}
