/// What a worker last reported about itself: the record its master sees, persists and recovers.
public struct WorkerStatus: Sendable, Hashable, Codable {
    public var state: WorkerState
    /// The worker's own epoch, fixed when it was created; fences its messages.
    public var epoch: Epoch
    /// Empty when the worker has not failed.
    public var errorMessage: String
    /// Business data the worker attaches; changing it alone is not worth a write.
    public var extensionBytes: [UInt8]

    public init(state: WorkerState, epoch: Epoch, errorMessage: String = "", extensionBytes: [UInt8] = []) {
        self.state = state
        self.epoch = epoch
        self.errorMessage = errorMessage
        self.extensionBytes = extensionBytes
    }

    /// Whether going from `previous` to this status must be persisted: the state or the error
    /// message changed. Extension bytes alone are not significant (TiFlow's rule), so progress
    /// counters carried there cost a message, not a disk write.
    public func hasSignificantChange(from previous: WorkerStatus?) -> Bool {
        guard let previous else { return true }
        return state != previous.state || errorMessage != previous.errorMessage
    }

    /// Whether the worker has finished, stopped or failed.
    public var isTerminal: Bool { state.isTerminal }

    enum CodingKeys: String, CodingKey {
        case state
        case epoch
        case errorMessage = "error-message"
        case extensionBytes = "extend-bytes"
    }
}
