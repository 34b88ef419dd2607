import BeaconPrimitives
import BeaconCore

/// Hands a flush's outcome from the dispatcher's loop to a registration awaiting it; the outcome
/// may arrive before the registration starts waiting.
final class CommitWaiter: Sendable {
    private enum State {
        case waiting
        case suspended(CheckedContinuation<DispatcherError?, Never>)
        case done(DispatcherError?)
    }

    private let state = PosixMutex(State.waiting)

    func signal(_ error: DispatcherError?) {
        let continuation: CheckedContinuation<DispatcherError?, Never>? = state.withLock { state in
            switch state {
            case .waiting:
                state = .done(error)
                return nil
            case .suspended(let continuation):
                state = .done(error)
                return continuation
            case .done:
                return nil
            }
        }
        continuation?.resume(returning: error)
    }

    func wait() async -> DispatcherError? {
        await withCheckedContinuation { continuation in
            let ready: DispatcherError?? = state.withLock { state in
                if case .done(let error) = state { return .some(error) }
                state = .suspended(continuation)
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
