#if GRPC
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherAPI
import BeaconDispatcherService
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import Testing

/// Heartbeat calls answered on the event loop against the same calls answered by grpc-swift, over
/// a real connection: what a client sees must not depend on the path.
@Suite(.timeLimit(.minutes(2))) struct EventLoopHeartbeatTests {
    private typealias Client = Beacon_Dispatcher_V1_Dispatcher.Client<HTTP2ClientTransport.Posix>

    /// Runs `body` with a client of a manager whose store knows node-1, and node-1's session.
    private func withManager(
        eventLoop: Bool, maximumRequestBytes: Int? = nil,
        _ body: (Client, GRPCClient<HTTP2ClientTransport.Posix>, String) async throws -> Void
    ) async throws {
        let store = InMemoryDispatcherStore()
        store.createNode(nodeID("node-1"))
        // A deadline of 33 s (30 periods and their jitter) keeps the session valid however slowly
        // a loaded machine runs the calls.
        var configuration = fastDispatcherConfiguration()
        configuration.heartbeatPeriod = .seconds(1)
        configuration.heartbeatJitter = .milliseconds(100)
        let manager = try await RunningManager(
            store: store, maximumRequestBytes: maximumRequestBytes, answersHeartbeatsOnEventLoop: eventLoop,
            dispatcherConfiguration: configuration)
        try await withGRPCClient(
            transport: .http2NIOPosix(
                target: .ipv4(address: "127.0.0.1", port: manager.port), transportSecurity: .plaintext,
                config: .defaults { $0.compression.enabledAlgorithms = .all })
        ) { client in
            let typed = Client(wrapping: client)
            try await body(typed, client, try await firstSession(typed))
        }
        await manager.stop()
    }

    /// A call's outcome as a line: the answers, or the status that ended it.
    private func outcome(_ call: () async throws -> [Int64]) async -> String {
        do {
            let periods = try await call()
            return "ok: " + periods.map { $0 > 0 ? "period" : "no period" }.joined(separator: ", ")
        } catch let error as RPCError {
            return "\(error.code): \(error.message)"
        } catch {
            return "not an RPCError: \(error)"
        }
    }

    /// Every form of heartbeat call a client can make, good and bad, and what each got.
    private func outcomes(eventLoop: Bool) async throws -> [String] {
        var lines: [String] = []
        try await withManager(eventLoop: eventLoop) { client, raw, session in
            let node: Metadata = ["beacon-node-id": "node-1"]
            let beat = Beacon_Dispatcher_V1_HeartbeatRequest.with { $0.sessionID = session }
            func unary(_ request: Beacon_Dispatcher_V1_HeartbeatRequest, _ metadata: Metadata, _ options: CallOptions)
                async -> String
            {
                await outcome {
                    [try await client.heartbeat(request, metadata: metadata, options: options).periodNanoseconds]
                }
            }
            func stream(_ requests: [Beacon_Dispatcher_V1_HeartbeatRequest], _ options: CallOptions = .defaults)
                async -> String
            {
                await outcome {
                    try await client.heartbeatStream(metadata: node, options: options) { writer in
                        for request in requests { try await writer.write(request) }
                    } onResponse: { response in
                        var periods: [Int64] = []
                        for try await answer in response.messages { periods.append(answer.periodNanoseconds) }
                        return periods
                    }
                }
            }
            var withDeadline = CallOptions.defaults
            withDeadline.timeout = .seconds(30)
            var compressed = CallOptions.defaults
            compressed.compression = .gzip
            lines.append(await unary(beat, node, .defaults))
            lines.append(await unary(beat, node, withDeadline))
            lines.append(await unary(beat, node, compressed))
            lines.append(await unary(beat, [:], .defaults))
            lines.append(await unary(beat, ["beacon-node-id": "node-1", "Beacon-Node-Id": "node-2"], .defaults))
            lines.append(await unary(beat, ["beacon-node-id": "not a node name"], .defaults))
            lines.append(await unary(.with { $0.sessionID = "not a session" }, node, .defaults))
            lines.append(await unary(beat, ["beacon-node-id": "node-2"], .defaults))
            lines.append(await stream([beat, beat, beat]))
            lines.append(await stream([]))
            lines.append(await stream([beat, beat], withDeadline))
            lines.append(await stream([beat, .with { $0.sessionID = "not a session" }, beat]))
            // Unary calls a generated client cannot make: requests as raw bytes, as many as given.
            func rawUnary(_ requests: [[UInt8]], _ metadata: Metadata? = nil) async -> String {
                await outcome {
                    try await raw.clientStreaming(
                        request: StreamingClientRequest(metadata: metadata ?? node) { writer in
                            for request in requests { try await writer.write(request) }
                        },
                        descriptor: Beacon_Dispatcher_V1_Dispatcher.Method.Heartbeat.descriptor,
                        serializer: RawBytes(),
                        deserializer: ProtobufDeserializer<Beacon_Dispatcher_V1_HeartbeatResponse>(),
                        options: .defaults
                    ) { [try $0.message.periodNanoseconds] }
                }
            }
            let beatBytes: [UInt8] = try beat.serializedBytes()
            lines.append(await rawUnary([beatBytes]))
            // Bytes that are no HeartbeatRequest: a field 1 of 5 bytes, cut after one.
            lines.append(await rawUnary([[0x0A, 0x05, 0x61]]))
            lines.append(await rawUnary([]))
            lines.append(await rawUnary([beatBytes, beatBytes]))
            // The same bad requests from a call that names no node: the request is read (and
            // refused) before the node is checked, on both paths.
            lines.append(await rawUnary([[0x0A, 0x05, 0x61]], [:]))
            lines.append(await rawUnary([], [:]))
            lines.append(await rawUnary([beatBytes, beatBytes], [:]))
            lines.append(await rawUnary([beatBytes], [:]))
            // A stream that names no node is refused before any beat, on both paths.
            lines.append(
                await outcome {
                    try await client.heartbeatStream(metadata: [:]) { writer in
                        try await writer.write(beat)
                    } onResponse: { response in
                        var periods: [Int64] = []
                        for try await answer in response.messages { periods.append(answer.periodNanoseconds) }
                        return periods
                    }
                })
        }
        return lines
    }

    @Test func bothPathsAnswerEveryFormOfCallAlike() async throws {
        let onEventLoop = try await outcomes(eventLoop: true)
        let throughGRPCSwift = try await outcomes(eventLoop: false)
        #expect(onEventLoop == throughGRPCSwift)
        // And the outcomes are the ones a client should see.
        #expect(onEventLoop.prefix(2) == ["ok: period", "ok: period"])
        // This server takes no compression; the event-loop path leaves such a call to grpc-swift.
        #expect(onEventLoop[2].hasPrefix("unimplemented: gzip compression is not supported"))
        #expect(onEventLoop[3].hasPrefix("permissionDenied"))
        #expect(onEventLoop[6] == "invalidArgument: session invalid")
        #expect(onEventLoop[8] == "ok: period, period, period")
        #expect(onEventLoop[9] == "ok: ")
        #expect(onEventLoop[11] == "invalidArgument: session invalid")
        #expect(onEventLoop[12] == "ok: period")
        #expect(onEventLoop[13].hasPrefix("invalidArgument: Can't deserialize"))
        #expect(onEventLoop[14] == "internalError: Empty stream.")
        #expect(onEventLoop[15] == "internalError: Too many messages.")
        #expect(onEventLoop[16].hasPrefix("invalidArgument: Can't deserialize"))
        #expect(onEventLoop[17] == "internalError: Empty stream.")
        #expect(onEventLoop[18] == "internalError: Too many messages.")
        #expect(onEventLoop[19].hasPrefix("permissionDenied"))
        #expect(onEventLoop[20].hasPrefix("permissionDenied"))
    }

    /// An oversized request tells the paths apart: grpc-swift resets the stream before any
    /// handler runs, the event-loop path answers ResourceExhausted. So the server under test
    /// really answered on the event loop, and both paths refuse the request and keep serving.
    @Test(arguments: [true, false]) func anOversizedBeatIsRefusedAndTheServerKeepsServing(eventLoop: Bool) async throws
    {
        try await withManager(eventLoop: eventLoop, maximumRequestBytes: 2048) { client, _, session in
            let node: Metadata = ["beacon-node-id": "node-1"]
            let huge = await outcome {
                [
                    try await client.heartbeat(
                        .with { $0.sessionID = String(repeating: "0", count: 4096) }, metadata: node
                    )
                    .periodNanoseconds
                ]
            }
            if eventLoop {
                #expect(huge.hasPrefix("resourceExhausted: a heartbeat request of 4099 bytes"), "\(huge)")
            } else {
                #expect(huge.hasPrefix("unavailable") && huge.contains("RST_STREAM"), "\(huge)")
            }
            let answer = try await client.heartbeat(.with { $0.sessionID = session }, metadata: node)
            #expect(answer.periodNanoseconds > 0)
        }
    }

    /// A negative `grpc-timeout` trapped grpc-swift 2 before any service code ran (its decoder
    /// takes the sign, its amount's precondition does not), so one header from any client ended
    /// the manager, on either path and for every method. The guard in front of grpc-swift answers
    /// `INVALID_ARGUMENT`, and the server keeps serving.
    @Test(arguments: [true, false]) func aNegativeDeadlineIsRefusedAndTheServerKeepsServing(eventLoop: Bool)
        async throws
    {
        try await withManager(eventLoop: eventLoop) { client, _, session in
            for timeouts in [["-1S"], ["1S", "-5m"]] {
                var metadata: Metadata = ["beacon-node-id": "node-1"]
                for timeout in timeouts { metadata.addString(timeout, forKey: "grpc-timeout") }
                let unary = await outcome {
                    [try await client.heartbeat(.with { $0.sessionID = session }, metadata: metadata).periodNanoseconds]
                }
                #expect(unary.hasPrefix("invalidArgument: grpc-timeout -"), "\(unary)")
                let registration = await outcome {
                    try await client.session(.init(), metadata: metadata) { response in
                        for try await _ in response.messages { break }
                        return []
                    }
                }
                #expect(registration.hasPrefix("invalidArgument: grpc-timeout -"), "\(registration)")
            }
            let answer = try await client.heartbeat(
                .with { $0.sessionID = session }, metadata: ["beacon-node-id": "node-1"])
            #expect(answer.periodNanoseconds > 0)
        }
    }

    /// Cancelling the server ends it while a node holds a heartbeat stream open: no task of its
    /// own runs that stream, so the server closes its connections for grpc-swift to finish.
    @Test func aCancelledServerStopsWhileAHeartbeatStreamIsOpen() async throws {
        let store = InMemoryDispatcherStore()
        store.createNode(nodeID("node-1"))
        let dispatcher = try Dispatcher(configuration: fastDispatcherConfiguration(), store: store)
        let server = try DispatcherServer(
            dispatcher: dispatcher, configuration: DispatcherServerConfiguration(host: "127.0.0.1", port: 0))
        let leading = Task { try await dispatcher.run() }
        let serving = Task { try await server.run() }
        let port = try await server.listeningPort
        let answered = AsyncStream<Void>.makeStream()
        let hold = AsyncStream<Void>.makeStream()
        let calling = Task {
            try await withGRPCClient(
                transport: .http2NIOPosix(
                    target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            ) { client in
                let typed = Client(wrapping: client)
                let node: Metadata = ["beacon-node-id": "node-1"]
                let session = try await firstSession(typed)
                let beat = Beacon_Dispatcher_V1_HeartbeatRequest.with { $0.sessionID = session }
                try await typed.heartbeatStream(metadata: node) { writer in
                    try await writer.write(beat)
                    // The node's side stays open until the test lets it go.
                    for await _ in hold.stream {}
                } onResponse: { response in
                    for try await _ in response.messages { answered.continuation.yield() }
                }
            }
        }
        // The beat was answered on the event loop: the stream is open and no handler task runs it.
        var answers = answered.stream.makeAsyncIterator()
        await answers.next()
        serving.cancel()
        _ = await serving.result
        leading.cancel()
        _ = await leading.result
        hold.continuation.finish()
        _ = await calling.result
    }
}
/// Sends a request's bytes as they are.
private struct RawBytes: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
}
#endif
