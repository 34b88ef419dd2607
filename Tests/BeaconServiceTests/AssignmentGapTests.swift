#if GRPC
import BeaconAgent
import BeaconClient
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherAPI
import BeaconDispatcherService
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization
import Testing

/// An agent that sees a diff which does not follow the last one it applied asks for a COMPLETE
/// set by reopening its stream. A scripted manager sends the gap: a real dispatcher never does.
@Suite(.timeLimit(.minutes(2))) struct AssignmentGapTests {
    /// The manager's side: a session, heartbeats, and assignment streams that follow a script.
    private final class ScriptedManager: Beacon_Dispatcher_V1_Dispatcher.SimpleServiceProtocol {
        /// The messages each Assignments call sends, in order; the last script repeats.
        let scripts: [[AssignmentMessage]]
        let assignmentCalls = Mutex(0)

        init(scripts: [[AssignmentMessage]]) {
            self.scripts = scripts
        }

        func session(
            request: Beacon_Dispatcher_V1_SessionRequest, response: RPCWriter<Beacon_Dispatcher_V1_SessionMessage>,
            context: ServerContext
        ) async throws {
            try await response.write(.with { $0.sessionID = "scripted-session" })
            try await Task.sleep(for: .seconds(3600))
        }

        func heartbeat(request: Beacon_Dispatcher_V1_HeartbeatRequest, context: ServerContext) async throws
            -> Beacon_Dispatcher_V1_HeartbeatResponse
        {
            .with { $0.periodNanoseconds = 1_000_000_000 }
        }

        func heartbeatStream(
            request: RPCAsyncSequence<Beacon_Dispatcher_V1_HeartbeatRequest, any Error>,
            response: RPCWriter<Beacon_Dispatcher_V1_HeartbeatResponse>, context: ServerContext
        ) async throws {
            for try await _ in request { try await response.write(.with { $0.periodNanoseconds = 1_000_000_000 }) }
        }

        func assignments(
            request: Beacon_Dispatcher_V1_AssignmentsRequest,
            response: RPCWriter<Beacon_Dispatcher_V1_AssignmentsMessage>,
            context: ServerContext
        ) async throws {
            let call = assignmentCalls.withLock { calls in
                defer { calls += 1 }
                return calls
            }
            for message in scripts[min(call, scripts.count - 1)] {
                try await response.write(Beacon_Dispatcher_V1_AssignmentsMessage(message))
            }
            try await Task.sleep(for: .seconds(3600))
        }

        func updateTaskStatus(request: Beacon_Dispatcher_V1_UpdateTaskStatusRequest, context: ServerContext)
            async throws
            -> Beacon_Dispatcher_V1_UpdateTaskStatusResponse
        {
            Beacon_Dispatcher_V1_UpdateTaskStatusResponse()
        }
    }

    private func upsert(_ batcher: inout AssignmentBatcher<BeaconInstant>, task id: UInt64) throws {
        let task = DispatchedTask(id: "t\(id)", nodeID: nodeID("node-1"), status: TaskStatus(state: .assigned))
        try batcher.upsert(
            AssignmentKey(.task, id: id), version: 1, payload: AssignedObject.task(task).encoded(), at: .zero)
    }

    @Test func aGapMakesTheAgentAskForACompleteSet() async throws {
        var batcher = AssignmentBatcher<BeaconInstant>()
        try upsert(&batcher, task: 1)
        let complete = try batcher.flush()  // COMPLETE: t1, sequence 1
        try upsert(&batcher, task: 2)
        _ = try batcher.flush()  // INCREMENTAL 1 → 2: never sent
        try upsert(&batcher, task: 3)
        let afterGap = try batcher.flush()  // INCREMENTAL 2 → 3: does not follow 1
        batcher.requestComplete()
        let recovery = try batcher.flush()  // COMPLETE: t1, t2, t3
        let manager = ScriptedManager(scripts: [complete + afterGap, recovery])

        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
        let server = GRPCServer(transport: transport, services: [manager])
        let serving = Task { try await server.serve() }
        let port = try #require(try await transport.listeningAddress.ipv4?.port)

        let connections = try ManagerConnections()
        let agent = try NodeAgent(
            configuration: AgentConfiguration(node: nodeID("node-1"), managers: ["127.0.0.1:\(port)"]),
            connections: connections)
        let running = Task { try await agent.run() }
        var events = agent.events.makeAsyncIterator()
        var sawGap = false
        while let event = await events.next() {
            if case .assignmentGap = event { sawGap = true }
            if case .assignmentsApplied(tasks: 3, complete: true, _) = event { break }
        }
        #expect(sawGap)
        #expect(agent.tasks.map(\.id) == ["t1", "t2", "t3"])
        #expect(manager.assignmentCalls.withLock { $0 } == 2)
        #expect(agent.sessionsStarted == 1)

        running.cancel()
        _ = await running.result
        await connections.close()
        server.beginGracefulShutdown()
        serving.cancel()
        _ = await serving.result
    }
}
#endif
