/// Where a worker believes its master runs, and at which epoch.
public struct MasterInfo: Sendable, Hashable {
    public var executor: ExecutorID
    public var epoch: Epoch

    public init(executor: ExecutorID, epoch: Epoch) {
        self.executor = executor
        self.epoch = epoch
    }
}
