#if GRPC
import BeaconAgent
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherAPI
import BeaconDispatcherService
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// `beacon serve --echo`'s service: dispatcher.proto answered with no dispatcher behind it. Its
/// figures are only a baseline if it behaves as the dispatcher does on the wire, so these check
/// what a node sees: its sessions, the drawn periods, the same refusals, an empty assignment set
/// and streams that end when the server shuts down.
@Suite(.timeLimit(.minutes(2))) struct EchoBaselineTests {
    private let policy = try! JitteredPeriodPolicy(
        period: .milliseconds(100), jitter: .milliseconds(10), graceMultiplier: 3)

    /// Runs `body` with a client of an echo server in a service group, then shuts the group down
    /// gracefully and returns once it has stopped, whether `body` returned or threw.
    private func withEchoServer(
        _ body: (Beacon_Dispatcher_V1_Dispatcher.Client<HTTP2ClientTransport.Posix>, Int, RPCListener) async throws
            -> Void
    ) async throws {
        let echo = DispatcherEchoService(heartbeat: policy)
        let listener = RPCListener(
            configuration: try DispatcherServerConfiguration(host: "127.0.0.1", port: 0), services: [echo],
            onShutdown: echo.endStreams)
        // A test that stops the listener itself ends the group as a graceful shutdown would; as
        // a plain service its return would race the shutdown and could count as unexpected.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: listener, successTerminationBehavior: .gracefullyShutdownGroup)],
                logger: Logger(label: "echo-test")))
        let serving = Task { try await group.run() }
        do {
            let port = try await listener.listeningPort
            try await withGRPCClient(
                transport: .http2NIOPosix(
                    target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            ) { client in
                try await body(Beacon_Dispatcher_V1_Dispatcher.Client(wrapping: client), port, listener)
            }
        } catch {
            await group.triggerGracefulShutdown()
            _ = await serving.result
            throw error
        }
        await group.triggerGracefulShutdown()
        try await serving.value
    }

    @Test func answersAsADispatcherWould() async throws {
        try await withEchoServer { client, _, _ in
            let node: Metadata = [DispatcherWire.nodeIDMetadataKey: "node-1"]
            let sessions = try await (0..<2).asyncMap { _ in
                try await client.session(.init(), metadata: node) { response in
                    for try await message in response.messages { return message }
                    return Beacon_Dispatcher_V1_SessionMessage()
                }
            }
            // Each session id is new and in the dispatcher's text form.
            #expect(sessions[0].sessionID != sessions[1].sessionID)
            #expect(sessions.allSatisfy { (try? SessionID($0.sessionID)) != nil && $0.nodeID == "node-1" })

            // Periods are drawn within period ± jitter, not all the same.
            var periods: Set<Int64> = []
            for _ in 0..<20 {
                let answer = try await client.heartbeat(.with { $0.sessionID = sessions[0].sessionID }, metadata: node)
                #expect((90_000_000...110_000_000).contains(answer.periodNanoseconds))
                periods.insert(answer.periodNanoseconds)
            }
            #expect(periods.count > 1)

            // The dispatcher's refusals: no node named, a malformed session.
            await #expect { _ = try await client.heartbeat(.with { $0.sessionID = sessions[0].sessionID }) } throws: {
                ($0 as? RPCError)?.code == .permissionDenied
            }
            await #expect { _ = try await client.heartbeat(.with { $0.sessionID = "x" }, metadata: node) } throws: {
                ($0 as? RPCError)?.code == .invalidArgument
            }
            await #expect {
                _ = try await client.updateTaskStatus(
                    .with {
                        $0.sessionID = sessions[0].sessionID
                        $0.updates = [.with { $0.taskID = "" }]
                    }, metadata: node)
            } throws: {
                ($0 as? RPCError)?.code == .invalidArgument
            }
        }
    }

    /// A node agent runs against it as against a dispatcher: one session, beats on its stream or
    /// as unary calls (on connections of their own, as loadgen sends them), an empty COMPLETE
    /// assignment set; and stopping the server ends the session instead of waiting for it forever.
    @Test(arguments: [HeartbeatTransport.stream, .unaryCalls])
    func aNodeAgentRunsAgainstIt(heartbeatTransport: HeartbeatTransport) async throws {
        let beats = BeatCounter()
        let connections = try ManagerConnections(unaryCallsOnSeparateConnections: true)
        try await withEchoServer { _, port, listener in
            let agent = try NodeAgent(
                configuration: AgentConfiguration(
                    node: nodeID("node-1"), managers: ["127.0.0.1:\(port)"], followsAssignments: true,
                    heartbeatTransport: heartbeatTransport),
                connections: connections,
                heartbeatObserver: { _, _ in beats.increment() })
            var events = agent.events.makeAsyncIterator()
            let running = Task { try await agent.run() }
            let firstSet = await next(&events) {
                switch $0 {
                case .assignmentsApplied(_, complete: true, _), .assignmentGap: true
                default: false
                }
            }
            guard case .assignmentsApplied(tasks: 0, complete: true, _) = firstSet else {
                Issue.record("expected an empty COMPLETE set, got \(String(describing: firstSet))")
                return
            }
            try await eventually("beats are answered") { beats.value >= 3 }
            #expect(agent.sessionsStarted == 1)

            listener.stop()
            let ended = await next(&events) {
                if case .sessionEnded = $0 { true } else { false }
            }
            #expect(ended != nil, "the session ends when the server stops")
            running.cancel()
            _ = await running.result
        }
        await connections.close()
    }
}

/// Beats the agent's observer (on any thread) counts and the test reads.
private final class BeatCounter: Sendable {
    private let count = Atomic(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

extension Sequence {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
#endif
