/// A master's lifecycle state as its persisted metadata records it. The raw values are
/// persisted; they never change.
public enum MasterState: Int8, Sendable, Hashable, Codable, CaseIterable {
    /// Never initialised: the next start is a first start, not a fail-over.
    case uninitialized = 1
    case initialized = 2
    case finished = 3
    case stopped = 4
    case failed = 5

    /// Finished, stopped or failed.
    public var isTerminal: Bool {
        switch self {
        case .finished, .stopped, .failed: true
        case .uninitialized, .initialized: false
        }
    }
}
