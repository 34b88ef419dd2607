/// A task's progress, in SwarmKit's order and numbering: a task only moves forward.
public enum TaskState: UInt16, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    case new = 0
    case pending = 64
    case assigned = 192
    case accepted = 256
    case preparing = 320
    case ready = 384
    case starting = 448
    case running = 512
    case complete = 576
    case shutdown = 640
    case failed = 704
    case rejected = 768
    case remove = 800
    case orphaned = 832

    public static func < (lhs: TaskState, rhs: TaskState) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// Assigned up to running: the states in which a node is working on the task, and the ones
    /// that become ``orphaned`` when the node stays down.
    public var isActiveOnNode: Bool { self >= .assigned && self <= .running }

    public var description: String {
        switch self {
        case .new: "new"
        case .pending: "pending"
        case .assigned: "assigned"
        case .accepted: "accepted"
        case .preparing: "preparing"
        case .ready: "ready"
        case .starting: "starting"
        case .running: "running"
        case .complete: "complete"
        case .shutdown: "shutdown"
        case .failed: "failed"
        case .rejected: "rejected"
        case .remove: "remove"
        case .orphaned: "orphaned"
        }
    }
}

/// A task's reported status: what the node (or the dispatcher) last said about it.
public struct TaskStatus: Sendable, Hashable {
    public var state: TaskState
    public var message: String
    public var error: String

    public init(state: TaskState, message: String = "", error: String = "") {
        self.state = state
        self.message = message
        self.error = error
    }
}
