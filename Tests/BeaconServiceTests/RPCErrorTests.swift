#if GRPC
import BeaconDispatcher
import BeaconDispatcherAPI
import BeaconDispatcherService
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing

/// Calls a client can get wrong, each answered with SwarmKit's status code and a message that
/// says what was wrong, and a server that keeps serving afterwards.
@Suite(.timeLimit(.minutes(2))) struct RPCErrorTests {
    @Test(arguments: [
        (DispatcherError.stopped, RPCError.Code.aborted),
        (.nodeNotRegistered, .notFound),
        (.nodeNotFound("n"), .notFound),
        (.sessionInvalid, .invalidArgument),
        (.invalidArgument("x"), .invalidArgument),
        (.rateLimited(node: "n", attempts: 4, window: .seconds(8)), .unavailable),
        (.storeFailure("disk"), .unavailable),
        (.permissionDenied("x"), .permissionDenied),
        (.capacityExhausted(10), .resourceExhausted),
        (.wrongManager(node: "n", owner: nil), .failedPrecondition),
    ])
    func dispatcherErrorsMapToSwarmKitsCodes(error: DispatcherError, code: RPCError.Code) {
        #expect(error.rpcError.code == code)
        #expect(error.rpcError.message == error.description)
        #expect(error.rpcError.metadata.isEmpty)
    }

    /// An assignment stream ended for a slow reader says so in the metadata too, so the agent
    /// can tell it from a ResourceExhausted its own transport raised.
    @Test func aStreamEndedBehindIsMarkedInTheMetadata() {
        let error = DispatcherError.assignmentsBehind(limit: 4096).rpcError
        #expect(error.code == .resourceExhausted)
        #expect(error.message == DispatcherError.assignmentsBehind(limit: 4096).description)
        #expect(Array(error.metadata[stringValues: DispatcherError.assignmentsBehindMetadataKey]) == ["4096"])
    }

    /// A manager that does not hold a node names the one that does, beside the message.
    @Test func theWrongManagerNamesTheOwnerInTheMetadata() {
        let owner = WeightedManager(nodeID: "m2", address: "10.0.0.2:4242")
        let error = DispatcherError.wrongManager(node: "n", owner: owner).rpcError
        #expect(error.code == .failedPrecondition)
        #expect(Array(error.metadata[stringValues: DispatcherError.ownerIDMetadataKey]) == ["m2"])
        #expect(Array(error.metadata[stringValues: DispatcherError.ownerAddressMetadataKey]) == ["10.0.0.2:4242"])
    }

    /// Runs `body` with a raw client of a manager whose store knows node-1 (with task t1) and
    /// node-2 (with task "other"), and node-1's session on it.
    private func withManager(
        maximumRequestBytes: Int? = nil,
        _ body: (RunningManager, Beacon_Dispatcher_V1_Dispatcher.Client<HTTP2ClientTransport.Posix>, String)
            async throws -> Void
    ) async throws {
        let store = InMemoryDispatcherStore()
        store.createNode(nodeID("node-1"))
        store.putTask(DispatchedTask(id: "t1", nodeID: nodeID("node-1"), status: TaskStatus(state: .assigned)))
        store.putTask(DispatchedTask(id: "other", nodeID: nodeID("node-2"), status: TaskStatus(state: .assigned)))
        // The calls here never beat the session they test with: a node deadline of 33 s keeps it
        // valid however slowly a loaded machine runs them (800 ms did not, once).
        var configuration = fastDispatcherConfiguration()
        configuration.heartbeatPeriod = .seconds(1)
        configuration.heartbeatJitter = .milliseconds(100)
        let manager = try await RunningManager(
            store: store, maximumRequestBytes: maximumRequestBytes, dispatcherConfiguration: configuration)
        try await withGRPCClient(
            transport: .http2NIOPosix(
                target: .ipv4(address: "127.0.0.1", port: manager.port), transportSecurity: .plaintext)
        ) { client in
            let typed = Beacon_Dispatcher_V1_Dispatcher.Client(wrapping: client)
            try await body(manager, typed, try await firstSession(typed))
        }
        await manager.stop()
    }

    private func code(_ call: () async throws -> Void) async -> RPCError? {
        do {
            try await call()
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            Issue.record("not an RPCError: \(error)")
            return nil
        }
    }

    @Test func malformedCallsGetClearErrorsAndTheServerKeepsServing() async throws {
        try await withManager { _, client, session in
            let beat = Beacon_Dispatcher_V1_HeartbeatRequest.with { $0.sessionID = session }

            let anonymous = await code { _ = try await client.heartbeat(beat) }
            #expect(anonymous?.code == .permissionDenied)
            #expect(anonymous?.message.contains("beacon-node-id") == true)

            let garbled = await code {
                _ = try await client.heartbeat(
                    .with { $0.sessionID = "not a session" }, metadata: ["beacon-node-id": "node-1"])
            }
            #expect(garbled?.code == .invalidArgument)
            #expect(garbled?.message == "session invalid")

            let stranger = await code { _ = try await sessionID(client, node: "node-9") }
            #expect(stranger?.code == .notFound)
            #expect(stranger?.message == "node node-9 not found")

            let badState = await code {
                _ = try await client.updateTaskStatus(
                    .with {
                        $0.sessionID = session
                        $0.updates = [
                            .with {
                                $0.taskID = "t1"
                                $0.status = .with { $0.state = 12345 }
                            }
                        ]
                    }, metadata: ["beacon-node-id": "node-1"])
            }
            #expect(badState?.code == .invalidArgument)
            #expect(badState?.message.contains("12345 is not a task state") == true)

            let foreign = await code {
                _ = try await client.updateTaskStatus(
                    .with {
                        $0.sessionID = session
                        $0.updates = [
                            .with {
                                $0.taskID = "other"
                                $0.status = .with { $0.state = 512 }
                            }
                        ]
                    }, metadata: ["beacon-node-id": "node-1"])
            }
            #expect(foreign?.code == .permissionDenied)

            // A refused beat on the heartbeat stream ends the stream with the unary call's code.
            let streamed = await code {
                try await client.heartbeatStream(metadata: ["beacon-node-id": "node-1"]) { writer in
                    try await writer.write(beat)
                    try await writer.write(.with { $0.sessionID = "not a session" })
                } onResponse: { response in
                    for try await _ in response.messages {}
                }
            }
            #expect(streamed?.code == .invalidArgument)
            #expect(streamed?.message == "session invalid")

            // Still serving: a good heartbeat answers with the period.
            let answer = try await client.heartbeat(beat, metadata: ["beacon-node-id": "node-1"])
            #expect(answer.periodNanoseconds > 0)
        }
    }

    @Test func anOversizedRequestIsRefusedAndTheServerKeepsServing() async throws {
        try await withManager(maximumRequestBytes: 64 * 1024) { _, client, session in
            let huge = Beacon_Dispatcher_V1_UpdateTaskStatusRequest.with {
                $0.sessionID = String(repeating: "0", count: 32)
                $0.updates = [
                    .with {
                        $0.taskID = "t1"
                        $0.status = .with { $0.message = String(repeating: "x", count: 100_000) }
                    }
                ]
            }
            // grpc-swift-nio-transport refuses an oversized request by resetting its stream, before
            // any handler runs.
            let refused = await code {
                _ = try await client.updateTaskStatus(huge, metadata: ["beacon-node-id": "node-1"])
            }
            #expect(refused?.code == .unavailable)
            #expect(refused?.message.contains("RST_STREAM") == true, "\(String(describing: refused))")

            let answer = try await client.heartbeat(
                .with { $0.sessionID = session }, metadata: ["beacon-node-id": "node-1"])
            #expect(answer.periodNanoseconds > 0)
        }
    }

    /// An assignment byte budget the server cannot use is refused before the stream opens: not
    /// a number, two of them, or below 1 KiB. A session hears the server's request limit.
    @Test func aBadAssignmentBudgetIsRefusedAndASessionHearsTheRequestLimit() async throws {
        try await withManager(maximumRequestBytes: 64 * 1024) { _, client, session in
            let request = Beacon_Dispatcher_V1_AssignmentsRequest.with { $0.sessionID = session }
            let key = DispatcherWire.assignmentByteBudgetMetadataKey
            let bad: [Metadata] = [
                ["beacon-node-id": "node-1", key: "lots"],
                ["beacon-node-id": "node-1", key: "4096", key: "8192"],
                ["beacon-node-id": "node-1", key: "1023"],
            ]
            for metadata in bad {
                let refused = await code {
                    try await client.assignments(request, metadata: metadata) { response in
                        for try await _ in response.messages {}
                    }
                }
                #expect(refused?.code == .invalidArgument, "\(metadata)")
                #expect(refused?.message.contains("at least 1024") == true, "\(String(describing: refused))")
            }
            // A good one opens the stream: its first message is the COMPLETE set.
            let first = try await client.assignments(request, metadata: ["beacon-node-id": "node-1", key: "1024"]) {
                response -> Beacon_Dispatcher_V1_AssignmentsMessage? in
                for try await message in response.messages { return message }
                return nil
            }
            #expect(first?.kind == .complete)

            let limit = try await client.session(.init(), metadata: ["beacon-node-id": "node-1"]) { response in
                response.metadata[stringValues: DispatcherWire.requestLimitMetadataKey].first { _ in true }
            }
            #expect(limit == "65536")
        }
    }

    @Test func aStoppedDispatcherAnswersAborted() async throws {
        try await withManager { manager, client, session in
            manager.dispatcher.stop()
            let stopped = await code {
                _ = try await client.heartbeat(.with { $0.sessionID = session }, metadata: ["beacon-node-id": "node-1"])
            }
            #expect(stopped?.code == .aborted)
            #expect(stopped?.message == "dispatcher is stopped")
        }
    }
}
#endif
