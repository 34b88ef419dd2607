/// A worker's lifecycle state as its status reports it. The raw values are persisted and sent
/// on the wire; they never change.
public enum WorkerState: Int8, Sendable, Hashable, Codable, CaseIterable {
    case normal = 1
    case created = 2
    case initialized = 3
    case error = 4
    case finished = 5
    case stopped = 6

    /// Finished, stopped or failed: the worker will not run again.
    public var isTerminal: Bool {
        switch self {
        case .finished, .stopped, .error: true
        case .normal, .created, .initialized: false
        }
    }
}
