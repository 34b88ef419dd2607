/// One message of the protocol, as a transport carries it.
public enum MasterWorkerMessage: Sendable, Hashable {
    case ping(HeartbeatPing)
    case pong(HeartbeatPong)
    case status(WorkerStatusMessage)
    case statusChange(StatusChangeRequest)

    /// Which message it is. The topic a message arrives on tells its receiver the kind (see
    /// ``MasterWorkerTopic``), so TiFlow's JSON carries no type tag.
    public enum Kind: Sendable, Hashable, CaseIterable {
        case ping
        case pong
        case status
        case statusChange
    }

    public var kind: Kind {
        switch self {
        case .ping: .ping
        case .pong: .pong
        case .status: .status
        case .statusChange: .statusChange
        }
    }
}

/// The topic names TiFlow's peer-to-peer router uses, so a Beacon worker and a TiFlow-style
/// router can address the same mailboxes.
public enum MasterWorkerTopic {
    /// Where a master receives its workers' pings.
    public static func ping(master: MasterID) -> String { "heartbeat-ping-\(master)" }
    /// Where a worker receives its master's pongs.
    public static func pong(master: MasterID, worker: WorkerID) -> String { "heartbeat-pong-\(master)-\(worker)" }
    /// Where a master receives its workers' status messages.
    public static func status(master: MasterID) -> String { "worker-status-\(master)" }
    /// Where a worker receives its master's status-change requests.
    public static func statusChange(master: MasterID, worker: WorkerID) -> String {
        "worker-status-change-req-\(master)-\(worker)"
    }
}
