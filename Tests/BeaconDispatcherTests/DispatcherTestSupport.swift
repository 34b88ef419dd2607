import BeaconCore
import Testing

@testable import BeaconDispatcher

func nodeID(_ name: String) -> NodeID {
    try! NodeID(name)
}

/// SwarmKit's test fixture: a store holding `nodes`, a dispatcher started on it (so every node
/// begins UNKNOWN with no valid session), on a manual clock.
func startedDispatcher(
    _ configuration: DispatcherConfiguration = .init(), nodes: [String] = ["node-a", "node-b"],
    managers: [WeightedManager] = [WeightedManager(nodeID: "manager-1", address: "10.0.0.1:4242")]
) throws -> VirtualDispatcher {
    let store = InMemoryDispatcherStore()
    store.createNodes(nodes.map(nodeID))
    store.updateCluster(ClusterSettings(rootCA: Array("test root CA".utf8)))
    let dispatcher = try VirtualDispatcher(configuration: configuration, store: store, managers: managers)
    try dispatcher.start()
    return dispatcher
}

/// A node's receiving end of its assignment stream: applies every message through the core's
/// applier (gaps and digests checked) and names what it holds by decoding the payloads.
final class AgentModel {
    var applier = AssignmentApplier()
    private var names: [AssignmentKey: String] = [:]
    private(set) var messages: [AssignmentMessage] = []
    private(set) var finished: DispatcherError??
    /// What the last message upserted and removed, by name ("task t1", "secret s1").
    private(set) var lastUpserts: Set<String> = []
    private(set) var lastRemovals: Set<String> = []

    /// Takes every message, as a reader that keeps up does.
    @discardableResult
    func receive(_ event: StreamEvent<AssignmentMessage>) -> Bool {
        switch event {
        case .message(let message):
            messages.append(message)
            lastUpserts = []
            lastRemovals = []
            if message.kind == .complete { names = [:] }
            for change in message.changes {
                switch change {
                case .upsert(let assignment):
                    let name = Self.name(of: try! AssignedObject(decoding: assignment.payload))
                    names[assignment.key] = name
                    lastUpserts.insert(name)
                case .removal(let key):
                    if let name = names.removeValue(forKey: key) { lastRemovals.insert(name) }
                }
            }
            try! applier.apply(message)
            return true
        case .finished(let error):
            finished = .some(error)
            return false
        }
    }

    var held: Set<String> { Set(names.values) }

    static func name(of object: AssignedObject) -> String {
        switch object {
        case .task(let task): "task \(task.id)"
        case .dependency(let dependency): "\(dependency.kind) \(dependency.id)"
        }
    }
}

/// Collects a session stream's events.
final class SessionRecorder {
    private(set) var messages: [SessionMessage] = []
    private(set) var finished: DispatcherError??

    func receive(_ event: StreamEvent<SessionMessage>) {
        switch event {
        case .message(let message): messages.append(message)
        case .finished(let error): finished = .some(error)
        }
    }
}

/// Runs `body` and returns the dispatcher error it threw, failing the test if it threw none.
func dispatcherError(_ body: () throws(DispatcherError) -> Void) -> DispatcherError? {
    do {
        try body()
        Issue.record("expected a DispatcherError")
        return nil
    } catch {
        return error
    }
}
