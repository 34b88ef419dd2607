import BeaconCore

/// Lets the dispatcher's loop sleep until its next deadline, or until new work arrives: a
/// registration, a status report, an expiry or a store change signals it. An idle dispatcher
/// (heartbeats only) does not wake at all, apart from metrics.
final class LoopWakeup: Sendable {
    private struct State {
        var signalled = false
        var sleeper: CheckedContinuation<Void, Never>?
    }

    private let state = PosixMutex(State())

    /// Wakes the loop, or makes its next wait return at once.
    func signal() {
        let sleeper = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let sleeper = state.sleeper {
                state.sleeper = nil
                return sleeper
            }
            state.signalled = true
            return nil
        }
        sleeper?.resume()
    }

    /// Returns after `duration` (never, when nil) or at the first signal, whichever comes first.
    /// A signal that arrived since the last wait makes it return at once.
    func wait(for duration: Duration?) async {
        let timer = duration.map { duration in
            Task { [self] in
                // A cancelled timer (the loop woke early) must not signal: that would wake the
                // next wait at once, and the loop would spin.
                guard (try? await Task.sleep(for: duration)) != nil else { return }
                signal()
            }
        }
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.signalled {
                    state.signalled = false
                    return true
                }
                state.sleeper = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        timer?.cancel()
    }
}
