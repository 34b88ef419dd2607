import BeaconCore
import BeaconPrimitives
import BeaconScheduler
import BenchmarkSupport
import Foundation

/// Follows the results of several participants and tells when all of them hold the same set —
/// how a demo or a benchmark measures propagation without polling.
final class GroupObserver: Sendable {
    private struct State {
        /// Who is followed: agreement needs a report from each of them, not only from those
        /// that have reported something yet.
        var followed: Set<String> = []
        var latest: [String: [String]] = [:]
        var seenAt: [String: ContinuousClock.Instant] = [:]
        var errors: [String] = []
        /// The caller of ``agreement(on:since:within:)``, until every participant holds its set
        /// or its deadline passes; one at a time.
        var waiter: Waiter?
        var stopped = false

        func holds(_ expected: [String]) -> Bool { followed.allSatisfy { latest[$0] == expected } }

        /// Takes the waiter if every followed participant now holds its set.
        mutating func takeSatisfiedWaiter() -> CheckedContinuation<Void, Never>? {
            guard let waiter, holds(waiter.expected) else { return nil }
            self.waiter = nil
            return waiter.continuation
        }
    }

    private struct Waiter {
        let expected: [String]
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Void, Never>
    }

    private let state = PosixMutex(State())
    private let readers = PosixMutex<[String: Task<Void, Never>]>([:])
    private let clock = ContinuousClock()
    /// Ends a wait whose deadline passed. One task for the observer's life, checking every
    /// 50 ms: a timer armed for every wait (or a poll while waiting) would wake the runtime's
    /// timer thread in the middle of each round it measures, on a machine of two cores.
    private let watchdog = PosixMutex<Task<Void, Never>?>(nil)

    /// Starts reading `handle`'s results.
    func follow(_ handle: ScheduleHandle) {
        let name = handle.hostname
        state.withLock { _ = $0.followed.insert(name) }
        let task = Task { [state, clock] in
            var results = handle.results.makeAsyncIterator()
            while true {
                do {
                    guard let hosts = try await results.next() else { return }
                    let now = clock.now
                    let agreed = state.withLock { state -> CheckedContinuation<Void, Never>? in
                        state.latest[name] = hosts
                        state.seenAt[name] = now
                        return state.takeSatisfiedWaiter()
                    }
                    agreed?.resume()
                } catch {
                    if (error as? SchedulerError) == .cancelled { return }
                    state.withLock { $0.errors.append("\(name): \(error)") }
                }
            }
        }
        readers.withLock { $0[name] = task }
    }

    /// Stops reading `name`'s results.
    func forget(_ name: String) {
        readers.withLock { $0.removeValue(forKey: name) }?.cancel()
        let agreed = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.followed.remove(name)
            state.latest.removeValue(forKey: name)
            state.seenAt.removeValue(forKey: name)
            return state.takeSatisfiedWaiter()
        }
        agreed?.resume()
    }

    /// In-band errors the participants reported, with who reported them.
    var errors: [String] { state.withLock { $0.errors } }

    /// How a group came to agree on a set.
    enum Agreement: Equatable {
        /// The last participant reported the set this long after the start.
        case reached(after: Duration)
        /// Every participant already held the set before the start: the step changed nothing
        /// they see, so there is no propagation to time.
        case unchanged
    }

    /// Waits until every followed participant holds `expected`; returns when the last of them
    /// got it, or nil if they did not agree within `limit`.
    func agreement(on expected: [String], since start: ContinuousClock.Instant, within limit: Duration = .seconds(30))
        async -> Agreement?
    {
        let deadline = start.advanced(by: limit)
        startWatchdog()
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                guard !state.stopped, !state.holds(expected) else { return true }
                precondition(state.waiter == nil, "one agreement at a time")
                state.waiter = Waiter(expected: expected, deadline: deadline, continuation: continuation)
                return false
            }
            if now { continuation.resume() }
        }
        let last: ContinuousClock.Instant?? = state.withLock { state in
            guard state.holds(expected) else { return .none }
            return .some(state.seenAt.values.max())
        }
        guard let last else { return nil }
        guard let last, last >= start else { return .unchanged }
        return .reached(after: last - start)
    }

    private func startWatchdog() {
        watchdog.withLock { watchdog in
            guard watchdog == nil else { return }
            watchdog = Task { [state, clock] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(50))
                    let now = clock.now
                    let overdue = state.withLock { state -> CheckedContinuation<Void, Never>? in
                        guard let waiter = state.waiter, waiter.deadline <= now || Task.isCancelled else { return nil }
                        state.waiter = nil
                        return waiter.continuation
                    }
                    overdue?.resume()
                }
            }
        }
    }

    func stop() {
        for task in readers.withLock({ $0.values }) { task.cancel() }
        watchdog.withLock { $0.take() }?.cancel()
        let waiting = state.withLock { state in
            state.stopped = true
            return state.waiter.take()
        }
        waiting?.continuation.resume()
    }
}

/// Percentiles of measured durations, for reports.
struct DurationSample {
    private(set) var values: [Duration] = []

    mutating func add(_ value: Duration) { values.append(value) }

    func percentile(_ p: Double) -> Duration {
        values.sorted().percentileOfSorted(p) ?? .zero
    }
}

extension Duration {
    /// `1.2 ms`, `850 µs`, `3.1 s`.
    var readable: String {
        let seconds = Stopwatch.seconds(self)
        if seconds >= 1 { return String(format: "%.2f s", seconds) }
        if seconds >= 1e-3 { return String(format: "%.2f ms", seconds * 1e3) }
        return String(format: "%.0f µs", seconds * 1e6)
    }
}
