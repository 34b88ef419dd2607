#if GRPC
public import BeaconCore
public import BeaconDispatcher
import Foundation

/// What both ends of the dispatcher's gRPC service agree on besides dispatcher.proto: where the
/// node's identity travels and how large messages may be.
public enum DispatcherWire {
    /// The request metadata key that names the calling node. Over mutual TLS the value must also
    /// be the common name of the client certificate.
    public static let nodeIDMetadataKey = "beacon-node-id"

    /// The `Assignments` request metadata key under which an agent names the largest diff it
    /// reads, in bytes (decimal): a manager whose own budget is larger cuts that node's messages
    /// to it. Without it the manager's budget applies, and a larger message ends the stream on
    /// the agent's side.
    public static let assignmentByteBudgetMetadataKey = "beacon-assignment-byte-budget"

    /// The `Session` response metadata key under which a manager names the largest request it
    /// reads, in bytes (decimal): an agent whose own budget is larger cuts its status reports to
    /// it. A larger request is refused by the transport resetting its stream, which an agent can
    /// tell from no other failure.
    public static let requestLimitMetadataKey = "beacon-request-limit"

    /// The smallest message limit either end takes: an agent's assignment byte budget, a
    /// server's request limit. 1 KiB.
    public static let minimumMessageLimit = 1024

    /// Room for the protobuf framing around one assignment diff: the kind, two sequence numbers
    /// and the length prefix of `diff` take at most 1 + 2 × 11 + 6 bytes.
    public static let assignmentFramingBytes = 64

    /// The largest `AssignmentsMessage` a dispatcher sends when its diffs are at most
    /// `byteBudget` bytes; agents refuse anything larger.
    public static func maximumAssignmentsMessageBytes(byteBudget: Int) -> Int {
        byteBudget + assignmentFramingBytes
    }
}

// MARK: Model → wire

extension Beacon_Dispatcher_V1_SessionMessage {
    /// The wire form of a session message.
    public init(_ message: SessionMessage) {
        self.init()
        sessionID = message.sessionID.description
        nodeID = message.node.id.rawValue
        managers = message.managers.map(Beacon_Dispatcher_V1_WeightedManager.init)
        networkBootstrapKeys = message.networkBootstrapKeys.map(Beacon_Dispatcher_V1_EncryptionKey.init)
        rootCa = Data(message.rootCA)
        disconnect = message.disconnect
    }
}

extension Beacon_Dispatcher_V1_WeightedManager {
    public init(_ manager: WeightedManager) {
        self.init()
        nodeID = manager.nodeID
        address = manager.address
        weight = Int32(clamping: manager.weight)
    }
}

extension Beacon_Dispatcher_V1_EncryptionKey {
    public init(_ key: EncryptionKey) {
        self.init()
        subsystem = key.subsystem
        algorithm = key.algorithm
        self.key = Data(key.key)
        lamportTime = key.lamportTime
    }
}

extension Beacon_Dispatcher_V1_AssignmentsMessage {
    /// The wire form of one assignment message: its encoded bytes, with copies of the header's
    /// kind and sequence numbers for tools that read the stream. The agent refuses a message
    /// whose copies disagree with its diff.
    public init(_ message: AssignmentMessage) {
        self.init()
        kind = message.kind == .complete ? .complete : .incremental
        appliesTo = message.appliesTo
        resultsIn = message.resultsIn
        diff = Data(message.bytes)
    }
}

extension Beacon_Dispatcher_V1_TaskStatusUpdate {
    public init(_ update: TaskStatusUpdate) {
        self.init()
        taskID = update.taskID
        if let status = update.status {
            self.status = .with {
                $0.state = UInt32(status.state.rawValue)
                $0.message = status.message
                $0.error = status.error
            }
        }
    }
}

// MARK: Wire → model

extension NodeDescription {
    /// The model form of a node description from the wire.
    public init(_ description: Beacon_Dispatcher_V1_NodeDescription) {
        self.init(hostname: description.hostname, attributes: description.attributes)
    }
}

extension WeightedManager {
    public init(_ manager: Beacon_Dispatcher_V1_WeightedManager) {
        self.init(nodeID: manager.nodeID, address: manager.address, weight: Int(manager.weight))
    }
}

extension TaskStatusUpdate {
    /// The model form of a status update from the wire; throws
    /// `DispatcherError/invalidArgument(_:)` for an empty task id or a state that is not one of
    /// `TaskState`'s values.
    public init(_ update: Beacon_Dispatcher_V1_TaskStatusUpdate) throws(DispatcherError) {
        guard !update.taskID.isEmpty else { throw .invalidArgument("a status update names no task") }
        guard update.hasStatus else {
            self.init(taskID: update.taskID, status: nil)
            return
        }
        let raw = update.status.state
        guard raw <= UInt32(UInt16.max), let state = TaskState(rawValue: UInt16(raw)) else {
            throw .invalidArgument("task \(update.taskID): \(raw) is not a task state")
        }
        self.init(
            taskID: update.taskID,
            status: TaskStatus(state: state, message: update.status.message, error: update.status.error))
    }
}
#endif
