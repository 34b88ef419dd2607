public import BeaconCore

/// The master's answer to a ping: to every ping from another master epoch, so a worker learns
/// the current one, and to the pings of the workers the master counts (see
/// `WorkerManager.answer(to:)`).
public struct HeartbeatPong: Sendable, Hashable, Codable {
    /// The ping's send time, echoed.
    public var sendTime: BeaconInstant
    /// The master's monotonic clock when it replied (informational: the worker never compares
    /// it with its own clock).
    public var replyTime: BeaconInstant
    public var toWorker: WorkerID
    /// The master's current epoch.
    public var masterEpoch: Epoch
    /// The ping's finished flag, echoed when the master took the ping in: its acknowledgement of
    /// a graceful exit.
    public var isFinished: Bool

    public init(
        sendTime: BeaconInstant, replyTime: BeaconInstant, toWorker: WorkerID, masterEpoch: Epoch, isFinished: Bool
    ) {
        self.sendTime = sendTime
        self.replyTime = replyTime
        self.toWorker = toWorker
        self.masterEpoch = masterEpoch
        self.isFinished = isFinished
    }

    /// The answer to `ping` from a master in `masterEpoch`, replying at `now`.
    public init(answering ping: HeartbeatPing, masterEpoch: Epoch, at now: BeaconInstant) {
        self.init(
            sendTime: ping.sendTime, replyTime: now, toWorker: ping.fromWorker, masterEpoch: masterEpoch,
            isFinished: ping.isFinished)
    }

    enum CodingKeys: String, CodingKey {
        case sendTime = "send-time"
        case replyTime = "reply-time"
        case toWorker = "to-worker-id"
        case masterEpoch = "epoch"
        case isFinished = "is-finished"
    }
}
