import BeaconCore
import BeaconDispatcher

/// The manager of the `AgentStreamFuzz` harness: the true assignment set, encoded into real
/// messages by the core's `AssignmentEncoder`, and every message sent with the set a receiver
/// holds after applying it.
///
/// Sequence numbers run on across streams, as a dispatcher's do, so each number names one
/// message and one true set for the whole input: a stale message replayed later still says
/// which set it leads to.
struct AgentStreamManager {
    /// One message sent, and the set its receiver holds afterwards (a part of a split batch
    /// leaves only the first parts' entries).
    struct Sent {
        var message: AssignmentMessage
        var set: [AssignmentKey: Assignment]
    }

    let encoder: AssignmentEncoder
    /// The set as the orchestrator wants it now, sent or not.
    private(set) var current: [AssignmentKey: Assignment] = [:]
    /// The set as of the last message sent, as the encoder's diff takes it and as entries.
    private var published = AssignmentSet()
    private var publishedEntries: [AssignmentKey: Assignment] = [:]
    private(set) var sequence: UInt64 = 0
    /// Every message sent, by its `resultsIn`.
    private(set) var sent: [UInt64: Sent] = [:]
    /// The task each task upsert carried, by its version: every upsert gets a version of its own,
    /// so the harness knows the tasks a set holds without decoding them.
    private var tasksByVersion: [UInt64: DispatchedTask] = [:]
    private var nextVersion: UInt64 = 1

    init(byteBudget: Int) throws {
        encoder = try AssignmentEncoder(byteBudget: byteBudget)
    }

    /// Assigns the task `t<id>` (replacing an earlier one with that id); `specBytes` sizes its
    /// spec so batches split at different places.
    mutating func assignTask(id: UInt64, desired: TaskState, specBytes: Int) throws {
        let key = try AssignmentKey(.task, id: id)
        let task = DispatchedTask(
            id: "t\(id)", nodeID: nil, desiredState: desired, status: TaskStatus(state: .assigned),
            spec: (0..<specBytes).map { UInt8(truncatingIfNeeded: Int(id) &+ $0) }, version: nextVersion)
        tasksByVersion[nextVersion] = task
        upsert(Assignment(key: key, version: nextVersion, payload: AssignedObject.task(task).encoded()))
    }

    /// Assigns an object the agent does not list as a task: a secret, a config, or a task
    /// key whose payload is not a task (its first byte, 0, is no payload format version).
    /// Every upsert gets a new version, so a version names one payload.
    mutating func assignOther(kind: AssignmentKind, id: UInt64, payloadBytes: Int) throws {
        let payload = [0] + (0..<payloadBytes).map { UInt8(truncatingIfNeeded: Int(id) &* 7 &+ $0) }
        upsert(Assignment(key: try AssignmentKey(kind, id: id), version: nextVersion, payload: payload))
    }

    private mutating func upsert(_ assignment: Assignment) {
        current[assignment.key] = assignment
        nextVersion += 1
    }

    /// Unassigns the `index`-th key in order, if the set has any.
    mutating func remove(index: Int) {
        guard !current.isEmpty else { return }
        let keys = current.keys.sorted()
        current[keys[index % keys.count]] = nil
    }

    /// The INCREMENTAL messages for what changed since the last message, none if nothing did.
    mutating func publish() throws -> [AssignmentMessage] {
        try send(.incremental, from: published, publishedEntries)
    }

    /// The COMPLETE set a new stream starts with.
    mutating func startStream() throws -> [AssignmentMessage] {
        try send(.complete, from: AssignmentSet(), [:])
    }

    /// Encodes the way from `base` to the current set. The receiver's set after each part is
    /// read back from the part's changes; the final one is compared with the manager's own set
    /// when the harness checks a clean stream.
    private mutating func send(
        _ kind: AssignmentMessageKind, from base: AssignmentSet, _ baseEntries: [AssignmentKey: Assignment]
    ) throws -> [AssignmentMessage] {
        let target = try AssignmentSet(current.values)
        let messages = try encoder.encode(AssignmentDiff(from: base, to: target), as: kind, after: sequence)
        var set = baseEntries
        for message in messages {
            if message.kind == .complete { set.removeAll() }
            for change in message.changes {
                switch change {
                case .upsert(let assignment): set[assignment.key] = assignment
                case .removal(let key): set[key] = nil
                }
            }
            sent[message.resultsIn] = Sent(message: message, set: set)
            sequence = message.resultsIn
        }
        published = target
        publishedEntries = current
        return messages
    }

    /// The tasks an agent holding `set` lists, in key order.
    func tasks(in set: [AssignmentKey: Assignment]) -> [DispatchedTask] {
        set.keys.sorted().compactMap { key in key.kind == .task ? set[key].flatMap { tasksByVersion[$0.version] } : nil
        }
    }
}
