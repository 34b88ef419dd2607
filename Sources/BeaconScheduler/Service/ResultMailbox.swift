import BeaconPrimitives
import BeaconCore

/// Between a participant and whoever reads its results: keeps only the newest host set (a
/// reader that falls behind skips to the latest, and the participant never waits for it), the
/// in-band errors since the last read (the most recent 16), and whether the participant ended.
final class ResultMailbox: Sendable {
    static let errorLimit = 16

    private struct State {
        var lastPublished: [String]?
        var unread: [String]?
        var errors: [SchedulerError] = []
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = PosixMutex(State())

    /// Offers a host set; one equal to the last offered is dropped.
    func publish(_ hosts: [String]) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard !state.finished, state.lastPublished != hosts else { return nil }
            state.lastPublished = hosts
            state.unread = hosts
            return state.waiter.take()
        }
        waiter?.resume()
    }

    /// Queues an in-band error, dropping the oldest beyond ``errorLimit``.
    func report(_ error: SchedulerError) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard !state.finished else { return nil }
            if state.errors.count == Self.errorLimit { state.errors.removeFirst() }
            state.errors.append(error)
            return state.waiter.take()
        }
        waiter?.resume()
    }

    /// Ends the results: readers get what is unread, then nil.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            return state.waiter.take()
        }
        waiter?.resume()
    }

    /// The last host set published, whether read or not.
    var latest: [String]? { state.withLock { $0.lastPublished } }

    /// The next error or host set, nil once finished.
    func next() async throws(SchedulerError) -> [String]? {
        while true {
            enum Outcome { case hosts([String]), error(SchedulerError), end, wait, busy }
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
/// scheduled hosts, different from the one before. Errors the participant meets (a store
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
