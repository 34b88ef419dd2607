/// Why a worker or master leaves, mapped to the state it persists.
public enum ExitReason: Sendable, Hashable, CaseIterable {
    case finished
    case canceled
    case failed

    /// The worker state this exit persists: finished, stopped or error.
    public var workerState: WorkerState {
        switch self {
        case .finished: .finished
        case .canceled: .stopped
        case .failed: .error
        }
    }

    /// The master state this exit persists: finished, stopped or failed.
    public var masterState: MasterState {
        switch self {
        case .finished: .finished
        case .canceled: .stopped
        case .failed: .failed
        }
    }
}
