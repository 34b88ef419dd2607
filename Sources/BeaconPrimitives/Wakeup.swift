/// Lets a loop sleep until its next deadline or until new work arrives, whichever comes first:
/// the dispatcher's loop (woken by registrations, status reports, expiries and store changes)
/// and an agent's status reporter (woken by a new status). One waiter at a time.
package final class Wakeup: Sendable {
    private struct State {
        var signalled = false
        var sleeper: CheckedContinuation<Void, Never>?
        /// The current wait's deadline timer, cancelled by whatever wakes the wait so a manual
        /// clock stops counting it at once.
        var timer: Task<Void, Never>?
        /// Numbers the waits, so a timer can tell whether its own wait is the one in progress.
        var generation: UInt64 = 0
        /// The wait in progress that nothing has woken yet, if any. A timer whose sleep ended wakes
        /// only this wait: one that fires after a signal woke its wait would otherwise leave a
        /// signal behind and end the next wait at once (a spurious loop pass; on a manual clock, a
        /// loop that is not parked while it looks idle).
        var unwoken: UInt64?
    }

    /// How a wait begins: at once on a signal already left, or parked with its timer.
    private enum Start {
        case signalled
        case wait(timer: Task<Void, Never>?)
    }

    private let state = PosixMutex(State())

    package init() {}

    /// Wakes the waiter, or makes the next wait return at once.
    package func signal() {
        wake(onlyWait: nil)
    }

    /// Wakes the wait in progress (or leaves a signal for one that has not parked yet), but only
    /// if it is wait `generation` and nothing woke it yet; nil wakes whatever wait comes.
    private func wake(onlyWait generation: UInt64?) {
        let (sleeper, timer) = state.withLock { state -> (CheckedContinuation<Void, Never>?, Task<Void, Never>?) in
            if let generation, state.unwoken != generation { return (nil, nil) }
            state.unwoken = nil
            let timer = state.timer.take()
            guard let sleeper = state.sleeper.take() else {
                state.signalled = true
                return (nil, timer)
            }
            return (sleeper, timer)
        }
        timer?.cancel()
        sleeper?.resume()
    }

    /// Returns once `clock` reads `deadline` (never, when nil), at the first signal, or when the
    /// task is cancelled, whichever comes first. A signal that arrived since the last wait makes
    /// it return at once. When it returns, its timer has ended: no sleeper of it is left on the
    /// clock, and nothing of it can wake a later wait.
    package func wait<C: Clock>(until deadline: C.Instant?, on clock: C) async {
        let start = state.withLock { state -> Start in
            // A signal already waiting needs no timer: starting one would count, on a manual
            // clock, as a sleeper of a waiter that never sleeps.
            if state.signalled.take() { return .signalled }
            state.generation &+= 1
            let generation = state.generation
            state.unwoken = generation
            // Made under the lock, so a signal that comes before this wait parks still finds the
            // timer and cancels it.
            state.timer = deadline.map { deadline in
                Task { [self] in
                    // A cancelled timer (the wait was woken) must not signal.
                    guard (try? await clock.sleep(until: deadline, tolerance: nil)) != nil else { return }
                    wake(onlyWait: generation)
                }
            }
            return .wait(timer: state.timer)
        }
        guard case .wait(let timer) = start else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.signalled.take() { return true }
                    state.sleeper = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            signal()
        }
        // Whatever woke this wait took the timer and cancelled it; awaiting its end keeps a timer
        // whose sleep had already returned from outliving the wait.
        await timer?.value
    }
}

extension Bool {
    /// The value, leaving false behind.
    fileprivate mutating func take() -> Bool {
        defer { self = false }
        return self
    }
}
