#if GRPC
public import BeaconCore
public import BeaconDispatcher
public import BeaconDispatcherAPI
public import GRPCCore
public import Logging

/// The gRPC face of a `Dispatcher`: each RPC of dispatcher.proto calls the dispatcher method of
/// the same name for the node the call comes from, and the dispatcher's typed errors become
/// SwarmKit's status codes (``BeaconDispatcher/DispatcherError/rpcError``).
///
/// Register it on a `GRPCServer`, or let ``DispatcherServer`` do so.
public struct DispatcherRPCService: Beacon_Dispatcher_V1_Dispatcher.ServiceProtocol {
    /// Called with a node before it registers. A dispatcher only accepts nodes its store knows
    /// (SwarmKit creates them when it issues their certificates); a cluster that lets any node in
    /// creates it here, and a store that writes through a network awaits its write. An error
    /// refuses the registration with the error's status.
    public typealias Admission = @Sendable (NodeID, NodeDescription?) async throws(DispatcherError) -> Void

    public let dispatcher: Dispatcher<MonotonicClock>
    private let authenticator: NodeAuthenticator
    private let admission: Admission?
    private let logger: Logger
    private let metrics: RPCMetrics?
    /// Sent to each session as `DispatcherWire.requestLimitMetadataKey`.
    private let sessionMetadata: Metadata

    /// - Parameters:
    ///   - dispatcher: the dispatcher every call goes to.
    ///   - requiresClientCertificate: refuse calls that carry no client certificate (set it when
    ///     the server runs mutual TLS; without TLS no call carries one).
    ///   - admission: see ``Admission``; nil admits every call.
    ///   - recordsCallLatency: time every successful call into the swift-metrics histogram
    ///     `beacon_rpc_duration_seconds` (see ``DispatcherServerConfiguration/recordsCallLatency``).
    ///   - maximumRequestBytes: the largest request the server's transport reads, told to every
    ///     session so that its agent cuts status reports to fit; nil tells nothing, and agents
    ///     then keep to their own budget.
    ///   - logger: where refused and failed calls are logged.
    public init(
        dispatcher: Dispatcher<MonotonicClock>, requiresClientCertificate: Bool = false, admission: Admission? = nil,
        recordsCallLatency: Bool = false, maximumRequestBytes: Int? = nil,
        logger: Logger = Logger(label: "beacon.dispatcher.rpc")
    ) {
        self.dispatcher = dispatcher
        authenticator = NodeAuthenticator(requiresCertificate: requiresClientCertificate)
        self.admission = admission
        self.logger = logger
        metrics = recordsCallLatency ? RPCMetrics() : nil
        sessionMetadata = maximumRequestBytes.map { [DispatcherWire.requestLimitMetadataKey: "\($0)"] } ?? [:]
    }

    /// The same heartbeat calls answered on the event loop, ahead of this service
    /// (``DispatcherServerConfiguration/answersHeartbeatsOnEventLoop``).
    var eventLoopHeartbeats: EventLoopHeartbeats {
        EventLoopHeartbeats(
            answer: { [dispatcher] node, request throws(RPCError) in try Self.beat(dispatcher, node: node, request) },
            authenticator: authenticator, metrics: metrics)
    }

    public func session(
        request: ServerRequest<Beacon_Dispatcher_V1_SessionRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Beacon_Dispatcher_V1_SessionMessage> {
        let started = metrics == nil ? nil : ContinuousClock.now
        let node = try authenticator.node(of: request.metadata, context: context)
        let message = request.message
        let resume = try message.sessionID.isEmpty ? nil : SessionID(wire: message.sessionID)
        let description = message.hasDescription_p ? NodeDescription(message.description_p) : nil
        let session: NodeSession
        do {
            try await admission?(node, description)
            session = try await dispatcher.session(
                nodeID: node, description: description,
                address: message.address.isEmpty ? context.remotePeer : message.address, resume: resume)
        } catch {
            logger.debug("registration refused", metadata: ["node": "\(node)", "error": "\(error)"])
            throw error.rpcError
        }
        return StreamingServerResponse(metadata: sessionMetadata) { [metrics] writer in
            try await Self.forward(session.messages, to: writer, as: Beacon_Dispatcher_V1_SessionMessage.init) {
                metrics?.session.record(since: started)
            }
            return [:]
        }
    }

    public func heartbeat(
        request: ServerRequest<Beacon_Dispatcher_V1_HeartbeatRequest>, context: ServerContext
    ) async throws -> ServerResponse<Beacon_Dispatcher_V1_HeartbeatResponse> {
        let started = metrics == nil ? nil : ContinuousClock.now
        let node = try authenticator.node(of: request.metadata, context: context)
        let response = try Self.beat(dispatcher, node: node, request.message)
        metrics?.heartbeat.record(since: started)
        return ServerResponse(message: response)
    }

    public func heartbeatStream(
        request: StreamingServerRequest<Beacon_Dispatcher_V1_HeartbeatRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Beacon_Dispatcher_V1_HeartbeatResponse> {
        let node = try authenticator.node(of: request.metadata, context: context)
        return StreamingServerResponse { [dispatcher, metrics] writer in
            for try await beat in request.messages {
                guard let metrics else {
                    try await writer.write(try Self.beat(dispatcher, node: node, beat))
                    continue
                }
                let started = ContinuousClock.now
                try await writer.write(try Self.beat(dispatcher, node: node, beat))
                metrics.heartbeatStream.record(since: started)
            }
            return [:]
        }
    }

    public func assignments(
        request: ServerRequest<Beacon_Dispatcher_V1_AssignmentsRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Beacon_Dispatcher_V1_AssignmentsMessage> {
        let started = metrics == nil ? nil : ContinuousClock.now
        let node = try authenticator.node(of: request.metadata, context: context)
        let session = try SessionID(wire: request.message.sessionID)
        let budget = try Self.assignmentByteBudget(in: request.metadata)
        let stream: DispatcherStream<AssignmentMessage>
        do {
            stream = try dispatcher.assignments(nodeID: node, session: session, byteBudget: budget)
        } catch {
            throw error.rpcError
        }
        return StreamingServerResponse { [metrics] writer in
            try await Self.forward(stream, to: writer, as: Beacon_Dispatcher_V1_AssignmentsMessage.init) {
                metrics?.assignments.record(since: started)
            }
            return [:]
        }
    }

    public func updateTaskStatus(
        request: ServerRequest<Beacon_Dispatcher_V1_UpdateTaskStatusRequest>, context: ServerContext
    ) async throws -> ServerResponse<Beacon_Dispatcher_V1_UpdateTaskStatusResponse> {
        let started = metrics == nil ? nil : ContinuousClock.now
        let node = try authenticator.node(of: request.metadata, context: context)
        let session = try SessionID(wire: request.message.sessionID)
        do {
            let updates = try request.message.updates.map { update throws(DispatcherError) in
                try TaskStatusUpdate(update)
            }
            try dispatcher.updateTaskStatus(nodeID: node, session: session, updates: updates)
        } catch {
            throw error.rpcError
        }
        metrics?.updateTaskStatus.record(since: started)
        return ServerResponse(message: Beacon_Dispatcher_V1_UpdateTaskStatusResponse())
    }

    /// The agent's own limit on an assignment diff, if it names one. Anything but one decimal
    /// byte count of at least `DispatcherWire.minimumMessageLimit` is refused as an invalid
    /// argument; a Beacon agent never sends one.
    static func assignmentByteBudget(in metadata: Metadata) throws(RPCError) -> Int? {
        let key = DispatcherWire.assignmentByteBudgetMetadataKey
        let values = Array(metadata[stringValues: key])
        guard let text = values.first else { return nil }
        guard values.count == 1, let budget = Int(text), budget >= DispatcherWire.minimumMessageLimit else {
            throw RPCError(
                code: .invalidArgument,
                message:
                    "\(key) must be one byte count of at least \(DispatcherWire.minimumMessageLimit), not \(values.map { "\"\($0)\"" }.joined(separator: ", "))"
            )
        }
        return budget
    }

    /// One beat, on either path: the service's handlers, or ``EventLoopHeartbeatHandler``.
    static func beat(
        _ dispatcher: Dispatcher<MonotonicClock>, node: NodeID, _ request: Beacon_Dispatcher_V1_HeartbeatRequest
    ) throws(RPCError) -> Beacon_Dispatcher_V1_HeartbeatResponse {
        let session = try SessionID(wire: request.sessionID)
        do {
            let period = try dispatcher.heartbeat(nodeID: node, session: session)
            var response = Beacon_Dispatcher_V1_HeartbeatResponse()
            response.periodNanoseconds = period.nanosecondsRoundedUp
            return response
        } catch {
            throw error.rpcError
        }
    }

    /// Writes a dispatcher stream to the wire until it ends; the dispatcher's reason for ending
    /// it (it stopped leading, the session was replaced) reaches the node as its status code.
    /// `firstWritten` runs once, after the first message is on its way.
    private static func forward<Element: Sendable, Wire: Sendable>(
        _ stream: DispatcherStream<Element>, to writer: RPCWriter<Wire>, as wire: (Element) -> Wire,
        firstWritten: () -> Void
    ) async throws {
        var messages = stream.makeAsyncIterator()
        var first = true
        while true {
            let next: Element?
            do {
                next = try await messages.next()
            } catch {
                throw error.rpcError
            }
            guard let next else { return }
            try await writer.write(wire(next))
            if first {
                first = false
                firstWritten()
            }
        }
    }
}

#endif
