#if GRPC
import BeaconAgent
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherAPI
import BeaconDispatcherService
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing

func nodeID(_ name: String) -> NodeID {
    try! NodeID(name)
}

/// Registers `node` once and returns the session id of its first session message ("" if the
/// stream ends without one); the dispatcher's refusal is thrown.
func sessionID(
    _ client: Beacon_Dispatcher_V1_Dispatcher.Client<HTTP2ClientTransport.Posix>, node: String = "node-1"
) async throws -> String {
    try await client.session(.init(), metadata: ["beacon-node-id": .string(node)]) { response in
        for try await message in response.messages { return message.sessionID }
        return ""
    }
}

/// Registers `node` and returns its session id. A dispatcher answers Aborted until its `run`
/// leads, so this asks again every 10 ms, for up to 5 s.
func firstSession(
    _ client: Beacon_Dispatcher_V1_Dispatcher.Client<HTTP2ClientTransport.Posix>, node: String = "node-1"
) async throws -> String {
    for _ in 0..<500 {
        let session = (try? await sessionID(client, node: node)) ?? ""
        if !session.isEmpty { return session }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("\(node) got no session in 5 s")
    throw CancellationError()
}

/// A dispatcher configuration whose nodes beat every 100 ms and that registers without a rate
/// limit. No test here waits for a DOWN, and several require that a node never has to register
/// again, so the grace is wide: 3 s of silence, for a loaded CI machine under ThreadSanitizer or
/// a run beside the etcd suites' three-member clusters (800 ms was once not enough there).
func fastDispatcherConfiguration() -> DispatcherConfiguration {
    var configuration = DispatcherConfiguration()
    configuration.heartbeatPeriod = .milliseconds(100)
    configuration.heartbeatJitter = .milliseconds(10)
    configuration.graceMultiplier = 30
    configuration.rateLimitPeriod = .zero
    configuration.statusBatchInterval = .milliseconds(20)
    return configuration
}

/// A dispatcher leading over `store` behind a gRPC server on a loopback port.
final class RunningManager: Sendable {
    let dispatcher: Dispatcher<MonotonicClock>
    let server: DispatcherServer
    let port: Int
    private let leading: Task<Void, any Error>
    private let serving: Task<Void, any Error>

    init(
        store: InMemoryDispatcherStore, host: String = "127.0.0.1", port: Int = 0, tls: ServerTLS? = nil,
        maximumRequestBytes: Int? = nil,
        managers: [WeightedManager] = [], acceptsHeartbeatDatagrams: Bool = false,
        answersHeartbeatsOnEventLoop: Bool = true,
        dispatcherConfiguration: DispatcherConfiguration = fastDispatcherConfiguration()
    ) async throws {
        dispatcher = try Dispatcher(configuration: dispatcherConfiguration, store: store, managers: managers)
        var configuration = try DispatcherServerConfiguration(host: host, port: port, tls: tls)
        if let maximumRequestBytes { configuration.maximumRequestBytes = maximumRequestBytes }
        configuration.acceptsHeartbeatDatagrams = acceptsHeartbeatDatagrams
        configuration.answersHeartbeatsOnEventLoop = answersHeartbeatsOnEventLoop
        server = try DispatcherServer(dispatcher: dispatcher, configuration: configuration)
        leading = Task { [dispatcher] in try await dispatcher.run() }
        serving = Task { [server] in try await server.run() }
        self.port = try await server.listeningPort
    }

    var address: String { "127.0.0.1:\(port)" }

    /// Stops leading (sessions get `disconnect`), then stops serving, and waits for both.
    func stop() async {
        dispatcher.stop()
        _ = await leading.result
        server.stop()
        _ = await serving.result
    }
}

/// The next event `matches` picks, skipping the others; nil if the stream ends first.
func next(_ events: inout AsyncStream<AgentEvent>.Iterator, where matches: (AgentEvent) -> Bool) async -> AgentEvent? {
    while let event = await events.next() {
        if matches(event) { return event }
    }
    return nil
}

/// Polls `condition` until it holds; the bound only turns a hang into a failure.
func eventually(_ what: Comment, _ condition: () -> Bool) async throws {
    for _ in 0..<3000 where !condition() {
        try await Task.sleep(for: .milliseconds(10))
    }
    #expect(condition(), what)
}
#endif
