public import BeaconCore

/// A master asking a worker to move to a state; a request for ``WorkerState/stopped`` cancels
/// the worker.
public struct StatusChangeRequest: Sendable, Hashable, Codable {
    public var sendTime: BeaconInstant
    public var fromMaster: MasterID
    public var masterEpoch: Epoch
    public var expectedState: WorkerState

    public init(sendTime: BeaconInstant, fromMaster: MasterID, masterEpoch: Epoch, expectedState: WorkerState) {
        self.sendTime = sendTime
        self.fromMaster = fromMaster
        self.masterEpoch = masterEpoch
        self.expectedState = expectedState
    }

    enum CodingKeys: String, CodingKey {
        case sendTime = "send-time"
        case fromMaster = "from-master-id"
        case masterEpoch = "epoch"
        case expectedState = "expect-state"
    }
}
