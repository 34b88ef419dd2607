#if GRPC
import BeaconAgent
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherAPI
import BeaconDispatcherService
import GRPCCore
import Testing

/// The agent's watchdog, in virtual time: a manager that gives a session and then never answers
/// a beat (a peer that lost power leaves its connection open) is left once the beat has waited
/// more than the call timeout, and not a moment sooner.
@Suite(.timeLimit(.minutes(2))) struct AgentWatchdogTests {
    @Test func anUnansweredBeatEndsTheSessionJustAfterTheCallTimeout() async throws {
        let listener = RPCListener(
            configuration: try DispatcherServerConfiguration(host: "127.0.0.1", port: 0),
            services: [SilentManager()])
        let serving = Task { try await listener.run() }
        let port = try await listener.listeningPort
        let clock = ManualClock()
        let connections = try ManagerConnections()
        let agent = try NodeAgent(
            configuration: AgentConfiguration(
                node: nodeID("node-1"), managers: ["127.0.0.1:\(port)"], callTimeout: .seconds(5),
                followsAssignments: false),
            connections: connections, clock: clock)
        var events = agent.events.makeAsyncIterator()
        let running = Task { try await agent.run() }

        // The session starts and the first beat goes out at 0 s, unanswered.
        let started = await next(&events) { if case .sessionStarted = $0 { true } else { false } }
        #expect(started != nil)
        try await eventually("the first beat is sent") { agent.lastHeartbeatSent != nil }
        await clock.waitForSleepers(1)
        // The watchdog sleeps until the beat would be overdue, not for a polling interval.
        #expect(clock.sleeperCount == 1)
        #expect(clock.nextDeadline == BeaconInstant.zero.advanced(by: .seconds(5) + .nanoseconds(1)))

        // At exactly the timeout the beat is not yet overdue: the session holds.
        try clock.advance(by: .seconds(5))
        await clock.waitForSleepers(1)
        #expect(agent.lastSessionEnd == nil)
        #expect(agent.sessionsStarted == 1)

        // Just past it, the watchdog ends the session.
        try clock.advance(by: .nanoseconds(1))
        let ended = await next(&events) { if case .sessionEnded = $0 { true } else { false } }
        guard case .sessionEnded(_, let reason, _) = ended else {
            Issue.record("the session did not end")
            return
        }
        #expect(reason.contains("no heartbeat answer within 5"))

        running.cancel()
        _ = await running.result
        await connections.close()
        listener.stop()
        serving.cancel()
        _ = await serving.result
    }
}

/// Gives every node the session ``session`` and then says nothing: beats on the stream are read
/// and never answered, and every stream stays open until the call is cancelled.
struct SilentManager: Beacon_Dispatcher_V1_Dispatcher.ServiceProtocol {
    static let session = "00000001000000000000000000000001"

    func session(
        request: ServerRequest<Beacon_Dispatcher_V1_SessionRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Beacon_Dispatcher_V1_SessionMessage> {
        StreamingServerResponse { writer in
            try await writer.write(.with { $0.sessionID = Self.session })
            await Self.untilCancelled()
            return [:]
        }
    }

    func heartbeat(
        request: ServerRequest<Beacon_Dispatcher_V1_HeartbeatRequest>, context: ServerContext
    ) async throws -> ServerResponse<Beacon_Dispatcher_V1_HeartbeatResponse> {
        await Self.untilCancelled()
        throw RPCError(code: .cancelled, message: "cancelled")
    }

    func heartbeatStream(
        request: StreamingServerRequest<Beacon_Dispatcher_V1_HeartbeatRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Beacon_Dispatcher_V1_HeartbeatResponse> {
        StreamingServerResponse { _ in
            for try await _ in request.messages {}
            return [:]
        }
    }

    func assignments(
        request: ServerRequest<Beacon_Dispatcher_V1_AssignmentsRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Beacon_Dispatcher_V1_AssignmentsMessage> {
        StreamingServerResponse { _ in
            await Self.untilCancelled()
            return [:]
        }
    }

    func updateTaskStatus(
        request: ServerRequest<Beacon_Dispatcher_V1_UpdateTaskStatusRequest>, context: ServerContext
    ) async throws -> ServerResponse<Beacon_Dispatcher_V1_UpdateTaskStatusResponse> {
        ServerResponse(message: .init())
    }

    /// Holds a call open; the hour is only a bound, the call's cancellation ends it.
    private static func untilCancelled() async {
        try? await Task.sleep(for: .seconds(3600))
    }
}
#endif
