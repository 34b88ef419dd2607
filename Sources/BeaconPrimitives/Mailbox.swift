/// A loop's inbox: producers push without waiting, and the one consumer takes everything queued
/// at once, so a burst of inputs costs one wake-up and one pass of its logic instead of one per
/// input (the scheduler's participant takes its watch events and lease news this way, a master
/// its workers' pings).
///
/// A bounded mailbox refuses a push while `capacity` inputs wait unread; a closed one refuses
/// every push and, once its consumer has taken what was queued, hands out nil.
package final class Mailbox<Input: Sendable>: Sendable {
    private struct State {
        var items: [Input] = []
        var waiter: CheckedContinuation<Void, Never>?
        var isClosed = false
    }

    private let state = PosixMutex(State())
    /// The most inputs that may wait unread.
    package let capacity: Int

    /// - Parameter capacity: the most inputs that may wait unread; callers check that it is
    ///   positive (a mailbox that can hold nothing would refuse every push).
    package init(capacity: Int = .max) {
        self.capacity = max(capacity, 1)
    }

    /// Queues `input` and wakes the consumer. Returns false, and queues nothing, when the mailbox
    /// is full or closed.
    @discardableResult
    package func push(_ input: Input) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.isClosed, state.items.count < capacity else { return (false, nil) }
            state.items.append(input)
            return (true, state.waiter.take())
        }
        waiter?.resume()
        return accepted
    }

    /// Refuses pushes from now on. The consumer still takes what is queued, then nil. Returns
    /// false if it was closed already.
    @discardableResult
    package func close() -> Bool {
        let (closedNow, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.isClosed else { return (false, nil) }
            state.isClosed = true
            return (true, state.waiter.take())
        }
        waiter?.resume()
        return closedNow
    }

    /// Everything queued, in the order it was pushed, waiting for at least one item; nil once the
    /// mailbox is closed and empty, or once the calling task is cancelled.
    package func takeAll() async -> [Input]? {
        while !Task.isCancelled {
            let (items, isClosed) = state.withLock { state in
                defer { state.items = [] }
                return (state.items, state.isClosed)
            }
            if !items.isEmpty { return items }
            if isClosed { return nil }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let ready = state.withLock { state -> Bool in
                        guard state.items.isEmpty, !state.isClosed, !Task.isCancelled else { return true }
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
