#if GRPC
package import BeaconCore
import BeaconDispatcher
package import BeaconDispatcherAPI
import BeaconPrimitives
package import GRPCCore
import ServiceLifecycle
import Synchronization

/// dispatcher.proto answered with no dispatcher behind it, every call through grpc-swift's handler
/// path: the baseline that separates grpc-swift's cost per call from Beacon's (`beacon serve
/// --echo`, beside `serve --grpc-swift-heartbeats`; docs/benchmarks.md).
///
/// Each call does what ``DispatcherRPCService`` does around the dispatcher (reads the node from
/// the metadata, parses the session and the request) and answers as a healthy dispatcher would:
/// a new session id, a period drawn as the dispatcher draws it for every heartbeat (the jitter
/// spreads the agents' beats over time, as it does against a dispatcher), one empty COMPLETE
/// assignment set, an empty status response. Its streams stay open until the call is cancelled,
/// the server shuts down gracefully in a service group, or ``endStreams()`` is called
/// (``RPCListener`` calls it when it stops, given it as `onShutdown`). It keeps no nodes, so it
/// never marks one DOWN.
package final class DispatcherEchoService: Beacon_Dispatcher_V1_Dispatcher.ServiceProtocol {
    private let heartbeat: JitteredPeriodPolicy
    private let authenticator: NodeAuthenticator
    private let emptyAssignments: Beacon_Dispatcher_V1_AssignmentsMessage
    private let sessionsIssued = Atomic<UInt64>(0)
    private let periodsDrawn = Atomic<UInt64>(0)
    private let openStreams = PosixMutex(OpenStreams())

    /// The streams held open, each ended by finishing its continuation.
    private struct OpenStreams {
        var continuations: [UInt64: AsyncStream<Never>.Continuation] = [:]
        var next: UInt64 = 0
        var ended = false
    }

    /// - Parameters:
    ///   - heartbeat: the policy each heartbeat's period is drawn from.
    ///   - requiresClientCertificate: as ``DispatcherRPCService``'s.
    package init(heartbeat: JitteredPeriodPolicy, requiresClientCertificate: Bool = false) {
        self.heartbeat = heartbeat
        authenticator = NodeAuthenticator(requiresCertificate: requiresClientCertificate)
        // An empty COMPLETE set is one header; encoding it cannot fail.
        let complete = try! AssignmentEncoder().encode(AssignmentDiff(), as: .complete, after: 0)[0]
        emptyAssignments = Beacon_Dispatcher_V1_AssignmentsMessage(complete)
    }

    package func session(
        request: ServerRequest<Beacon_Dispatcher_V1_SessionRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Beacon_Dispatcher_V1_SessionMessage> {
        let node = try authenticator.node(of: request.metadata, context: context)
        if !request.message.sessionID.isEmpty { _ = try SessionID(wire: request.message.sessionID) }
        // Session ids are the dispatcher's text form: a slot, then a random part that is never 0.
        let number = sessionsIssued.wrappingAdd(1, ordering: .relaxed).newValue
        var message = Beacon_Dispatcher_V1_SessionMessage()
        message.sessionID =
            SessionID(
                handle: HeartbeatHandle(index: UInt32(truncatingIfNeeded: number), generation: 0),
                secret: number | 1 << 63
            ).description
        message.nodeID = node.rawValue
        return StreamingServerResponse { [message] writer in
            try await writer.write(message)
            await self.holdOpen()
            return [:]
        }
    }

    package func heartbeat(
        request: ServerRequest<Beacon_Dispatcher_V1_HeartbeatRequest>, context: ServerContext
    ) async throws -> ServerResponse<Beacon_Dispatcher_V1_HeartbeatResponse> {
        _ = try authenticator.node(of: request.metadata, context: context)
        return ServerResponse(message: try answer(request.message))
    }

    package func heartbeatStream(
        request: StreamingServerRequest<Beacon_Dispatcher_V1_HeartbeatRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Beacon_Dispatcher_V1_HeartbeatResponse> {
        _ = try authenticator.node(of: request.metadata, context: context)
        return StreamingServerResponse { writer in
            for try await beat in request.messages { try await writer.write(try self.answer(beat)) }
            return [:]
        }
    }

    package func assignments(
        request: ServerRequest<Beacon_Dispatcher_V1_AssignmentsRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Beacon_Dispatcher_V1_AssignmentsMessage> {
        _ = try authenticator.node(of: request.metadata, context: context)
        _ = try SessionID(wire: request.message.sessionID)
        _ = try DispatcherRPCService.assignmentByteBudget(in: request.metadata)
        return StreamingServerResponse { [emptyAssignments] writer in
            try await writer.write(emptyAssignments)
            await self.holdOpen()
            return [:]
        }
    }

    package func updateTaskStatus(
        request: ServerRequest<Beacon_Dispatcher_V1_UpdateTaskStatusRequest>, context: ServerContext
    ) async throws -> ServerResponse<Beacon_Dispatcher_V1_UpdateTaskStatusResponse> {
        _ = try authenticator.node(of: request.metadata, context: context)
        _ = try SessionID(wire: request.message.sessionID)
        do {
            for update in request.message.updates { _ = try TaskStatusUpdate(update) }
        } catch {
            throw error.rpcError
        }
        return ServerResponse(message: Beacon_Dispatcher_V1_UpdateTaskStatusResponse())
    }

    private func answer(
        _ request: Beacon_Dispatcher_V1_HeartbeatRequest
    ) throws(RPCError) -> Beacon_Dispatcher_V1_HeartbeatResponse {
        _ = try SessionID(wire: request.sessionID)
        var response = Beacon_Dispatcher_V1_HeartbeatResponse()
        var random = SplitMix64(seed: periodsDrawn.wrappingAdd(1, ordering: .relaxed).newValue)
        response.periodNanoseconds = heartbeat.next(random: random.next()).period.nanosecondsRoundedUp
        return response
    }

    /// Ends every stream held open, and every one opened from now on, as a dispatcher's streams
    /// end when it stops leading.
    package func endStreams() {
        let ending = openStreams.withLock { streams in
            streams.ended = true
            defer { streams.continuations.removeAll() }
            return Array(streams.continuations.values)
        }
        for continuation in ending { continuation.finish() }
    }

    /// Returns when the call is cancelled, the server begins a graceful shutdown in a service
    /// group, or ``endStreams()`` is called.
    private func holdOpen() async {
        let (held, continuation) = AsyncStream<Never>.makeStream()
        let key = openStreams.withLock { streams -> UInt64? in
            guard !streams.ended else { return nil }
            streams.next += 1
            streams.continuations[streams.next] = continuation
            return streams.next
        }
        guard let key else { return }
        await withGracefulShutdownHandler {
            // Ends when the continuation finishes or the task is cancelled.
            for await _ in held {}
        } onGracefulShutdown: {
            continuation.finish()
        }
        _ = openStreams.withLock { $0.continuations.removeValue(forKey: key) }
    }
}
#endif
