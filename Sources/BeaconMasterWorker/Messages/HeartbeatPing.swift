public import BeaconCore

/// A worker's heartbeat, sent every heartbeat interval to the executor its master runs on.
public struct HeartbeatPing: Sendable, Hashable, Codable {
    /// The worker's monotonic clock when it sent the ping; the pong echoes it, and only echoes
    /// prove the master alive.
    public var sendTime: BeaconInstant
    public var fromWorker: WorkerID
    /// The master epoch the worker believes is current.
    public var masterEpoch: Epoch
    /// The worker's own epoch.
    public var workerEpoch: Epoch
    /// Set once the worker is exiting gracefully: it asks the master to take it offline.
    public var isFinished: Bool

    public init(sendTime: BeaconInstant, fromWorker: WorkerID, masterEpoch: Epoch, workerEpoch: Epoch, isFinished: Bool)
    {
        self.sendTime = sendTime
        self.fromWorker = fromWorker
        self.masterEpoch = masterEpoch
        self.workerEpoch = workerEpoch
        self.isFinished = isFinished
    }

    enum CodingKeys: String, CodingKey {
        case sendTime = "send-time"
        case fromWorker = "from-worker-id"
        case masterEpoch = "epoch"
        case workerEpoch = "worker-epoch"
        case isFinished = "is-finished"
    }
}
