import BeaconCore
import BeaconDispatcher
import Testing

func nodeID(_ name: String) -> NodeID {
    try! NodeID(name)
}

/// SwarmKit's numbers with no jitter, so every deadline falls on a known instant: a 1 s period,
/// a grace of 3 (DOWN 3 s after the last beat; UNKNOWN nodes 6 s after the leader starts).
func exactConfiguration() -> DispatcherConfiguration {
    var configuration = DispatcherConfiguration()
    configuration.heartbeatPeriod = .seconds(1)
    configuration.heartbeatJitter = .zero
    return configuration
}

/// A dispatcher leading on a manual clock over a recording store, started at instant zero.
struct Leader {
    let clock = ManualClock()
    let store = RecordingStore()
    let dispatcher: Dispatcher<ManualClock>
    let running: Task<Void, any Error>

    /// Creates `ready` and `down` nodes in the store, as an earlier leader left them, and starts
    /// leading. The start marks the READY nodes UNKNOWN; those writes are flushed here, one batch
    /// interval in, so the test begins with nothing queued.
    init(_ configuration: DispatcherConfiguration = exactConfiguration(), ready: [NodeID] = [], down: [NodeID] = [])
        async throws
    {
        for node in ready + down { store.base.createNode(node) }
        for node in ready { store.base.setNodeStatus(node, NodeStatus(state: .ready)) }
        for node in down { store.base.setNodeStatus(node, NodeStatus(state: .down, message: "heartbeat failure")) }
        dispatcher = try Dispatcher(configuration: configuration, clock: clock, store: store)
        running = Task { [dispatcher] in try await dispatcher.run() }
        await parked()
        if !ready.isEmpty { try await advance(by: configuration.statusBatchInterval) }
    }

    /// Returns once the dispatcher's loop and heartbeat thread both sleep on the clock again.
    func parked() async {
        await dispatcher.waitUntilIdle()
    }

    /// Moves virtual time on and waits until the dispatcher has handled what came due.
    func advance(by duration: Duration) async throws {
        try clock.advance(by: duration)
        await parked()
    }

    /// Registers `node` at one batch interval from now. With a whole interval since the last
    /// flush and nothing else queued, the READY write flushes at once, so the session is issued
    /// at that instant.
    func register(_ node: NodeID) async throws -> NodeSession {
        try await advance(by: dispatcher.configuration.statusBatchInterval)
        return try await dispatcher.session(nodeID: node, description: NodeDescription(hostname: node.rawValue))
    }

    /// Beats for `session` every half period until `duration` has passed.
    func keepBeating(_ node: NodeID, _ session: NodeSession, for duration: Duration) async throws {
        let step = dispatcher.configuration.heartbeatPeriod / 2
        var elapsed = Duration.zero
        while elapsed < duration {
            let next = min(step, duration - elapsed)
            try await advance(by: next)
            elapsed += next
            _ = try dispatcher.heartbeat(nodeID: node, session: session.id)
        }
    }

    func stop() async throws {
        dispatcher.stop()
        try await running.value
    }
}
