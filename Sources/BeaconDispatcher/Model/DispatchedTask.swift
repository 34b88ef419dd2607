/// A task as the store holds it: what the orchestrator wants run on a node, and what the node
/// last reported.
///
/// `spec` is opaque to Beacon (a container spec, a command line): the dispatcher compares it and
/// ships it, nothing more.
public struct DispatchedTask: Sendable, Hashable {
    public let id: String
    /// The node the task is assigned to; nil while the scheduler has not placed it.
    public var nodeID: NodeID?
    /// What the orchestrator wants: a change here always reaches the node.
    public var desiredState: TaskState
    /// What the node reported last; changes here alone are not sent back to it.
    public var status: TaskStatus
    public var spec: [UInt8]
    /// Ids of the secrets the task needs on its node.
    public var secrets: [String]
    /// Ids of the configs the task needs on its node.
    public var configs: [String]
    /// Bumped by the store on every write.
    public var version: UInt64

    public init(
        id: String, nodeID: NodeID?, desiredState: TaskState = .running, status: TaskStatus = TaskStatus(state: .new),
        spec: [UInt8] = [], secrets: [String] = [], configs: [String] = [], version: UInt64 = 0
    ) {
        self.id = id
        self.nodeID = nodeID
        self.desiredState = desiredState
        self.status = status
        self.spec = spec
        self.secrets = secrets
        self.configs = configs
        self.version = version
    }

    /// Equal apart from status and version: SwarmKit's `TasksEqualStable`. Two tasks that differ
    /// only there differ by what the node itself reported.
    public func equalsIgnoringStatus(_ other: DispatchedTask) -> Bool {
        id == other.id && nodeID == other.nodeID && desiredState == other.desiredState && spec == other.spec
            && secrets == other.secrets && configs == other.configs
    }
}

/// The kinds of object a task can depend on.
public enum DependencyKind: UInt8, Sendable, Hashable, CustomStringConvertible {
    case secret = 1
    case config = 2

    public var description: String { self == .secret ? "secret" : "config" }
}

/// A secret or config a task needs on its node.
public struct TaskDependency: Sendable, Hashable {
    public let kind: DependencyKind
    public let id: String
    public var data: [UInt8]
    /// Bumped by the store on every write.
    public var version: UInt64

    public init(kind: DependencyKind, id: String, data: [UInt8], version: UInt64 = 0) {
        self.kind = kind
        self.id = id
        self.data = data
        self.version = version
    }
}

/// One entry of an `updateTaskStatus` call.
public struct TaskStatusUpdate: Sendable, Hashable {
    public var taskID: String
    /// Nil entries are skipped, as SwarmKit skips a missing status.
    public var status: TaskStatus?

    public init(taskID: String, status: TaskStatus?) {
        self.taskID = taskID
        self.status = status
    }
}
