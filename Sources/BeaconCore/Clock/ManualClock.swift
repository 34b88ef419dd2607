import BeaconPrimitives
import Synchronization

/// A clock that moves only when told to: the virtual time of deterministic tests and simulations.
///
/// ``advance(by:)`` moves the reading and resumes every task sleeping on the clock whose deadline
/// has come, so a shell written against ``BeaconClock`` runs in virtual time unchanged.
/// ``waitForSleepers(_:)`` lets a test wait until the shells it drives are parked again, which is
/// how a test shows that nothing happened without sleeping in real time.
///
/// ```swift
/// let clock = ManualClock()
/// let woke = Task { try await clock.sleep(for: .seconds(5)) }
/// await clock.waitForSleepers(1)
/// try clock.advance(by: .seconds(5))   // the sleeper is resumed
/// try await woke.value
/// ```
///
/// Reading the clock is one atomic load, safe from any thread while another moves it.
public final class ManualClock: BeaconClock {
    private enum Waker {
        /// A task in ``sleep(until:tolerance:)``.
        case task(CheckedContinuation<Void, any Error>)
        /// A thread parked in `park(until:on:)` (a ``HeartbeatTimer``'s).
        case thread(WakeSignal)

        func wake() {
            switch self {
            case .task(let continuation): continuation.resume()
            case .thread(let signal): signal.signal()
            }
        }
    }

    private struct Sleeper {
        let id: UInt64
        /// Nil for a thread parked until signalled: it counts as a sleeper but no advance wakes it.
        let deadline: BeaconInstant?
        let waker: Waker

        func isDue(at instant: BeaconInstant) -> Bool { deadline.map { $0 <= instant } ?? false }
    }

    private struct CountWaiter {
        let id: UInt64
        let count: Int
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct Sleepers {
        var nextID: UInt64 = 0
        var parked: [Sleeper] = []
        var countWaiters: [CountWaiter] = []

        /// Removes and returns the waiters whose count the parked sleepers now reach.
        mutating func takeSatisfiedCountWaiters() -> [CountWaiter] {
            let satisfied = countWaiters.filter { $0.count <= parked.count }
            countWaiters.removeAll { $0.count <= parked.count }
            return satisfied
        }
    }

    private let nanoseconds: Atomic<UInt64>
    // Moving the clock happens under this lock too, so a sleeper never parks against a reading
    // that has already passed its deadline.
    private let sleepers = PosixMutex(Sleepers())

    /// A clock reading `start`.
    public init(start: BeaconInstant = .zero) {
        nanoseconds = Atomic(start.nanoseconds)
    }

    public var now: BeaconInstant {
        BeaconInstant(nanoseconds: nanoseconds.load(ordering: .acquiring))
    }

    /// Suspends until the clock has been advanced to `deadline` or later; returns at once if it
    /// already has. Throws `CancellationError` if the task is cancelled first.
    public func sleep(until deadline: BeaconInstant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let id = sleepers.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome {
                    case parked([CountWaiter])
                    case due, cancelled
                }
                let outcome = sleepers.withLock { state -> Outcome in
                    // The cancellation flag is set before the handler below runs, and both take
                    // this lock, so either the handler finds this sleeper or this check sees the flag.
                    if Task.isCancelled { return .cancelled }
                    if deadline <= now { return .due }
                    state.parked.append(Sleeper(id: id, deadline: deadline, waker: .task(continuation)))
                    return .parked(state.takeSatisfiedCountWaiters())
                }
                switch outcome {
                case .parked(let waiters): for waiter in waiters { waiter.continuation.resume() }
                case .due: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let cancelled = sleepers.withLock { state -> Sleeper? in
                guard let index = state.parked.firstIndex(where: { $0.id == id }) else { return nil }
                return state.parked.remove(at: index)
            }
            if case .task(let continuation) = cancelled?.waker { continuation.resume(throwing: CancellationError()) }
        }
    }

    /// Moves the clock later by `duration` and resumes every sleeper now due, earliest deadline
    /// first. A negative duration is refused: monotonic clocks do not go backwards.
    public func advance(by duration: Duration) throws(HeartbeatError) {
        guard duration >= .zero else { throw .clockWentBackwards(by: .zero - duration) }
        try advance(to: now.advanced(by: duration))
    }

    /// Moves the clock to `instant`, which must not be earlier than the current reading, and
    /// resumes every sleeper now due, earliest deadline first.
    public func advance(to instant: BeaconInstant) throws(HeartbeatError) {
        let due = try sleepers.withLock { state throws(HeartbeatError) -> [Sleeper] in
            let current = now
            guard instant >= current else { throw .clockWentBackwards(by: current.duration(since: instant)) }
            nanoseconds.store(instant.nanoseconds, ordering: .releasing)
            let due = state.parked.filter { $0.isDue(at: instant) }
            state.parked.removeAll { $0.isDue(at: instant) }
            return due.sorted { ($0.deadline ?? instant, $0.id) < ($1.deadline ?? instant, $1.id) }
        }
        for sleeper in due { sleeper.waker.wake() }
    }

    /// Blocks the calling thread until the clock reaches `deadline` (nil: no deadline) or `signal`
    /// is signalled, counting as a sleeper meanwhile: how a ``HeartbeatTimer``'s thread sleeps in
    /// virtual time. Whatever wakes it (an advance or a signal) takes it off the sleepers at that
    /// moment, so ``waitForSleepers(_:)`` never counts a thread that has work to do.
    func park(until deadline: BeaconInstant?, on signal: WakeSignal) {
        // The signal's lock is taken inside the sleepers' lock here and never the other way round:
        // `signal()` calls the unpark hook after releasing its own lock.
        let parked = sleepers.withLock { state -> [CountWaiter]? in
            if let deadline, deadline <= now { return nil }
            state.nextID += 1
            let id = state.nextID
            guard signal.arm(unpark: { [self] in self.unpark(id) }) else { return nil }
            state.parked.append(Sleeper(id: id, deadline: deadline, waker: .thread(signal)))
            return state.takeSatisfiedCountWaiters()
        }
        guard let waiters = parked else { return }
        for waiter in waiters { waiter.continuation.resume() }
        signal.wait(untilMonotonicNanoseconds: nil)
    }

    private func unpark(_ id: UInt64) {
        sleepers.withLock { $0.parked.removeAll { $0.id == id } }
    }

    /// Tasks sleeping on the clock right now.
    public var sleeperCount: Int { sleepers.withLock { $0.parked.count } }

    /// The earliest deadline a sleeper waits for, nil when nobody sleeps.
    public var nextDeadline: BeaconInstant? { sleepers.withLock { $0.parked.compactMap(\.deadline).min() } }

    /// Returns once at least `count` tasks (or timer threads) sleep on the clock: after an
    /// ``advance(by:)``, the shells a test drives have handled what came due when they are all
    /// parked again. Returns early if the waiting task is cancelled (a test's time limit), so a
    /// shell that never parks fails the test instead of hanging it.
    public func waitForSleepers(_ count: Int) async {
        let id = sleepers.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = sleepers.withLock { state -> Bool in
                    if state.parked.count >= count || Task.isCancelled { return true }
                    state.countWaiters.append(CountWaiter(id: id, count: count, continuation: continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = sleepers.withLock { state -> CountWaiter? in
                guard let index = state.countWaiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.countWaiters.remove(at: index)
            }
            waiter?.continuation.resume()
        }
    }
}
