/// A worker's status, sent to its master after every update (persisted first when significant).
public struct WorkerStatusMessage: Sendable, Hashable, Codable {
    public var worker: WorkerID
    /// The master epoch the worker believes is current; a master drops messages for another epoch.
    public var masterEpoch: Epoch
    public var status: WorkerStatus

    public init(worker: WorkerID, masterEpoch: Epoch, status: WorkerStatus) {
        self.worker = worker
        self.masterEpoch = masterEpoch
        self.status = status
    }

    enum CodingKeys: String, CodingKey {
        case worker
        case masterEpoch = "master-epoch"
        case status
    }
}
