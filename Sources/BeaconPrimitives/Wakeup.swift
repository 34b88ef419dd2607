/// Lets a loop sleep until its next deadline or until new work arrives, whichever comes first:
/// the dispatcher's loop (woken by registrations, status reports, expiries and store changes)
/// and an agent's status reporter (woken by a new status). One waiter at a time.
package final class Wakeup: Sendable {
    private struct State {
        var signalled = false
        var sleeper: CheckedContinuation<Void, Never>?
        /// The sleeping waiter's deadline timer, cancelled by the signal that wakes the waiter so a
        /// manual clock stops counting it at once.
        var timer: Task<Void, Never>?
    }

    private let state = PosixMutex(State())

    package init() {}

    /// Wakes the waiter, or makes the next wait return at once.
    package func signal() {
        let (sleeper, timer) = state.withLock { state -> (CheckedContinuation<Void, Never>?, Task<Void, Never>?) in
            if let sleeper = state.sleeper {
                state.sleeper = nil
                return (sleeper, state.timer.take())
            }
            state.signalled = true
            return (nil, nil)
        }
        timer?.cancel()
        sleeper?.resume()
    }

    /// Returns once `clock` reads `deadline` (never, when nil), at the first signal, or when the
    /// task is cancelled, whichever comes first. A signal that arrived since the last wait makes
    /// it return at once.
    package func wait<C: Clock>(until deadline: C.Instant?, on clock: C) async {
        // A signal already waiting needs no timer: starting one would count, on a manual clock, as
        // a sleeper of a waiter that never sleeps.
        guard !state.withLock({ $0.signalled.take() }) else { return }
        let timer = deadline.map { deadline in
            Task { [self] in
                // A cancelled timer (the waiter woke early) must not signal: that would wake the
                // next wait at once, and the loop would spin.
                guard (try? await clock.sleep(until: deadline, tolerance: nil)) != nil else { return }
                signal()
            }
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.signalled {
                        state.signalled = false
                        return true
                    }
                    state.sleeper = continuation
                    state.timer = timer
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            signal()
        }
        timer?.cancel()
    }
}

extension Bool {
    /// The value, leaving false behind.
    fileprivate mutating func take() -> Bool {
        defer { self = false }
        return self
    }
}
