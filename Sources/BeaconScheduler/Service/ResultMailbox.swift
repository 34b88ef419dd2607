import BeaconCore
import BeaconPrimitives

/// Between a participant and whoever reads its results: keeps only the newest host set (a
/// reader that falls behind skips to the latest, and the participant never waits for it), the
/// in-band errors since the last read (the most recent 16), and whether the participant ended.
final class ResultMailbox: Sendable {
    static let errorLimit = 16

    /// What an observer sees: the last set published, and the errors not read yet.
    typealias Observation = (latest: [String]?, unreadErrors: [SchedulerError])

    /// An observer to wake, and what to hand it.
    private typealias Wake = (continuation: CheckedContinuation<Observation?, Never>, observation: Observation?)

    private struct Observer {
        let condition: @Sendable (Observation) -> Bool
        let continuation: CheckedContinuation<Observation?, Never>
    }

    private struct State {
        var lastPublished: [String]?
        /// The set a new one is compared with: the last published, forgotten when the lease is
        /// lost, so that the set the participant learns after registering again is told even if
        /// equal (a leader that lost its lease stepped down, and learns it leads again from it).
        var lastTold: [String]?
        var unread: [String]?
        var errors: [SchedulerError] = []
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?
        var observers: [UInt64: Observer] = [:]
        var nextObserver: UInt64 = 0

        var observation: Observation { (lastPublished, errors) }

        /// Removes the observers to wake: those whose condition now holds, and all of them once
        /// the results have ended (they get nil).
        mutating func takeSettledObservers() -> [Wake] {
            guard !observers.isEmpty else { return [] }
            let current = observation
            var settled: [Wake] = []
            for (id, observer) in observers {
                if observer.condition(current) {
                    settled.append((observer.continuation, current))
                } else if finished {
                    settled.append((observer.continuation, nil))
                } else {
                    continue
                }
                observers[id] = nil
            }
            return settled
        }
    }

    private let state = PosixMutex(State())

    /// Offers a host set; one equal to the last offered is dropped.
    func publish(_ hosts: [String]) {
        let (waiter, observers) = state.withLock { state -> (CheckedContinuation<Void, Never>?, [Wake]) in
            guard !state.finished, state.lastTold != hosts else { return (nil, []) }
            state.lastPublished = hosts
            state.lastTold = hosts
            state.unread = hosts
            return (state.waiter.take(), state.takeSettledObservers())
        }
        waiter?.resume()
        for wake in observers { wake.continuation.resume(returning: wake.observation) }
    }

    /// Queues an in-band error, dropping the oldest beyond ``errorLimit``.
    func report(_ error: SchedulerError) {
        let (waiter, observers) = state.withLock { state -> (CheckedContinuation<Void, Never>?, [Wake]) in
            guard !state.finished else { return (nil, []) }
            if state.errors.count == Self.errorLimit { state.errors.removeFirst() }
            state.errors.append(error)
            if error == .leaseLost { state.lastTold = nil }
            return (state.waiter.take(), state.takeSettledObservers())
        }
        waiter?.resume()
        for wake in observers { wake.continuation.resume(returning: wake.observation) }
    }

    /// Ends the results: readers get what is unread, then nil.
    func finish() {
        let (waiter, observers) = state.withLock { state -> (CheckedContinuation<Void, Never>?, [Wake]) in
            state.finished = true
            return (state.waiter.take(), state.takeSettledObservers())
        }
        waiter?.resume()
        for wake in observers { wake.continuation.resume(returning: wake.observation) }
    }

    /// Waits, without reading anything, until `condition` holds of the last published set and
    /// the unread errors, and returns them; nil once the results end (or the task is cancelled)
    /// first. The reader of ``next()`` still gets every set and error: how a test waits for a
    /// participant to learn a set and still checks what it reported on the way.
    func observe(until condition: @escaping @Sendable (Observation) -> Bool) async -> Observation? {
        let id = state.withLock { state in
            state.nextObserver += 1
            return state.nextObserver
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Observation?, Never>) in
                let settled: Observation?? = state.withLock { state in
                    let current = state.observation
                    if condition(current) { return .some(current) }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.observers[id] = Observer(condition: condition, continuation: continuation)
                    return .none
                }
                if let settled { continuation.resume(returning: settled) }
            }
        } onCancel: {
            state.withLock { $0.observers.removeValue(forKey: id) }?.continuation.resume(returning: nil)
        }
    }

    /// The last host set published, whether read or not.
    var latest: [String]? { state.withLock { $0.lastPublished } }

    /// The next error or host set, nil once finished.
    func next() async throws(SchedulerError) -> [String]? {
        while true {
            enum Outcome {
                case hosts([String])
                case error(SchedulerError)
                case end, wait, busy
            }
            let outcome: Outcome = state.withLock { state in
                if !state.errors.isEmpty { return .error(state.errors.removeFirst()) }
                if let hosts = state.unread.take() { return .hosts(hosts) }
                if state.finished { return .end }
                return state.waiter == nil ? .wait : .busy
            }
            switch outcome {
            case .hosts(let hosts): return hosts
            case .error(let error): throw error
            case .end: return nil
            case .busy: throw .invalidOption("results are read by one task at a time")
            case .wait:
                guard !Task.isCancelled else { throw .cancelled }
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let ready = state.withLock { state -> Bool in
                            if !state.errors.isEmpty || state.unread != nil || state.finished || Task.isCancelled {
                                return true
                            }
                            state.waiter = continuation
                            return false
                        }
                        if ready { continuation.resume() }
                    }
                } onCancel: {
                    state.withLock { $0.waiter.take() }?.resume()
                }
                if Task.isCancelled { throw .cancelled }
            }
        }
    }
}

/// The host sets chosen for a group, as they change: each element is the sorted list of
/// scheduled hosts, different from the one before (or the first after a lost lease, even if
/// equal: the participant left the group and joined it again). Errors the participant meets (a store
/// failure, a strategy that cannot choose, a lost lease) are thrown by `next()` in band: the
/// sequence goes on, and the next call returns the next set. It finishes (returns nil) after
/// ``ScheduleHandle/shutdown()``. One task reads it at a time.
public struct ScheduleResults: AsyncSequence, Sendable {
    public typealias Element = [String]
    public typealias Failure = SchedulerError

    let mailbox: ResultMailbox

    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        let mailbox: ResultMailbox

        public mutating func next() async throws(SchedulerError) -> [String]? {
            try await mailbox.next()
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(SchedulerError) -> [String]? {
            try await mailbox.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(mailbox: mailbox)
    }
}
