/// A master's persisted record: where it runs, its current epoch, and how it ended.
public struct MasterMetadata: Sendable, Hashable {
    public var id: MasterID
    /// The executor the master last started on; workers send their pings there.
    public var executor: ExecutorID?
    /// The address the master last advertised (free-form, for operators).
    public var address: String
    /// Drawn anew on every start; workers and the master fence each other's messages with it.
    public var epoch: Epoch
    public var state: MasterState
    /// Empty unless the master failed or closed with an error.
    public var errorMessage: String
    /// Business data written on exit.
    public var detail: [UInt8]

    public init(
        id: MasterID, executor: ExecutorID? = nil, address: String = "", epoch: Epoch = Epoch(rawValue: 0),
        state: MasterState = .uninitialized, errorMessage: String = "", detail: [UInt8] = []
    ) {
        self.id = id
        self.executor = executor
        self.address = address
        self.epoch = epoch
        self.state = state
        self.errorMessage = errorMessage
        self.detail = detail
    }
}
