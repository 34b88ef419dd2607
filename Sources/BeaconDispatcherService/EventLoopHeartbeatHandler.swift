#if GRPC
package import BeaconDispatcher
package import BeaconDispatcherAPI
import Foundation
package import GRPCCore
package import NIOCore
package import NIOHPACK
package import NIOHTTP2
import NIOSSL
import X509

/// Answers `Heartbeat` and `HeartbeatStream` calls on the HTTP/2 stream's event loop, in the
/// stream channel's pipeline, ahead of grpc-swift: a beat is read, given to the dispatcher and
/// answered in the same pass over the bytes that brought it, with no task, async sequence or
/// writer in between (docs/service.md, "Heartbeats on the event loop").
///
/// It sees each new stream's request headers first. A call in the plain form it answers
/// (``HeartbeatCallHead``) is then its own to the end; anything else goes on to grpc-swift, and
/// the handler leaves the pipeline. It answers with the same node check (`NodeAuthenticator`),
/// the same beat (`DispatcherRPCService.beat`) and the same refusals as grpc-swift, as gRPC
/// statuses in the trailers; it differs on purpose in three places, an oversized request, a
/// compressed message on a call without compression and a passed deadline, which get a status of
/// their own (docs/service.md).
///
/// grpc-swift still runs a task for every stream it accepted; for a stream answered here that task
/// waits for the stream to close, which ``RPCListener`` makes sure of when it is cancelled.
package final class EventLoopHeartbeatHandler: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTP2Frame.FramePayload
    package typealias InboundOut = HTTP2Frame.FramePayload
    package typealias OutboundIn = HTTP2Frame.FramePayload
    package typealias OutboundOut = HTTP2Frame.FramePayload

    /// Records one beat of `node`: the dispatcher's answer, or the status that refuses it.
    package typealias Answer =
        @Sendable (NodeID, Beacon_Dispatcher_V1_HeartbeatRequest) throws(RPCError) ->
        Beacon_Dispatcher_V1_HeartbeatResponse

    private let answer: Answer
    private let authenticator: NodeAuthenticator
    private let maximumRequestBytes: Int
    private let metrics: RPCMetrics?
    private var state = State.awaitingHeaders
    /// A `read` held back while the stream cannot take more answers.
    private var readHeldBack = false

    private enum State {
        case awaitingHeaders
        case answering(Call)
        /// The call is not a heartbeat call: grpc-swift answers it.
        case passedOn
        /// Trailers are written; whatever else arrives is dropped.
        case ended
    }

    private struct Call {
        let method: HeartbeatCallHead.Method
        /// Who the call acts for, or why it may not. A stream is refused at once; a unary call only
        /// once its request is read, as grpc-swift reads it before its handler checks the node,
        /// so a bad request gets the same status on both paths.
        let node: Result<NodeID, RPCError>
        var reader: GRPCMessageReader
        var sentHeaders = false
        /// A unary call's request, answered when the node ends its side.
        var unaryRequest: Beacon_Dispatcher_V1_HeartbeatRequest?
        var deadline: Scheduled<Void>?
    }

    package init(
        answer: @escaping Answer, authenticator: NodeAuthenticator, maximumRequestBytes: Int, metrics: RPCMetrics? = nil
    ) {
        self.answer = answer
        self.authenticator = authenticator
        self.maximumRequestBytes = maximumRequestBytes
        self.metrics = metrics
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .awaitingHeaders:
            guard case .headers(let headers) = unwrapInboundIn(data), let head = HeartbeatCallHead(headers.headers)
            else {
                state = .passedOn
                context.fireChannelRead(data)
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                return
            }
            open(head, endStream: headers.endStream, context: context)
        case .answering(var call):
            state = .ended  // not `.answering` while `call` is changed, so it is not copied on write
            switch unwrapInboundIn(data) {
            case .data(let frame):
                guard case .byteBuffer(let bytes) = frame.data else {
                    return finish(call, RPCError(code: .internalError, message: "a DATA frame without bytes"), context)
                }
                call.reader.append(bytes)
                answerBuffered(&call, endStream: frame.endStream, context: context)
            case .headers(let trailers):
                // A request's trailers carry nothing a heartbeat reads; they only end the node's side.
                answerBuffered(&call, endStream: trailers.endStream, context: context)
            default:
                state = .answering(call)
            }
        case .passedOn:
            context.fireChannelRead(data)
        case .ended:
            return
        }
    }

    private func open(_ head: HeartbeatCallHead, endStream: Bool, context: ChannelHandlerContext) {
        let node = Result { () throws(RPCError) in
            try authenticator.node(claimed: head.claimedNodes, certificate: Self.peerCertificate(of: context))
        }
        if head.method == .stream, case .failure(let refusal) = node {
            return end(refusal, sentHeaders: false, context: context)
        }
        var call = Call(
            method: head.method, node: node, reader: GRPCMessageReader(maximumMessageBytes: maximumRequestBytes))
        if let timeout = head.timeout {
            call.deadline = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) {
                [self] in
                guard case .answering(let call) = self.state else { return }
                self.finish(
                    call, RPCError(code: .deadlineExceeded, message: "the call's deadline of \(timeout) passed"),
                    context)
            }
        }
        answerBuffered(&call, endStream: endStream, context: context)
    }

    /// Answers every whole message buffered; at the end of the node's side, ends the call.
    private func answerBuffered(_ call: inout Call, endStream: Bool, context: ChannelHandlerContext) {
        var answered = false
        do throws(RPCError) {
            while let message = try Self.next(&call.reader) {
                let started = metrics == nil ? nil : ContinuousClock.now
                let request = try Self.request(message)
                switch call.method {
                case .unary:
                    guard call.unaryRequest == nil else { throw Self.tooManyRequests }
                    call.unaryRequest = request
                case .stream:
                    let response = try answer(call.node.get(), request)
                    write(response, call: &call, context: context)
                    metrics?.heartbeatStream.record(since: started)
                    answered = true
                }
            }
            guard endStream else {
                state = .answering(call)
                if answered { context.flush() }
                return
            }
            try Self.checkEnded(call.reader)
            if call.method == .unary {
                let started = metrics == nil ? nil : ContinuousClock.now
                guard let request = call.unaryRequest else { throw Self.noRequest }
                write(try answer(call.node.get(), request), call: &call, context: context)
                metrics?.heartbeat.record(since: started)
            }
            finish(call, nil, context)
        } catch {
            finish(call, error, context)
        }
    }

    private func write(
        _ response: Beacon_Dispatcher_V1_HeartbeatResponse, call: inout Call, context: ChannelHandlerContext
    ) {
        if !call.sentHeaders {
            call.sentHeaders = true
            context.write(wrapOutboundOut(.headers(.init(headers: Self.responseHeaders))), promise: nil)
        }
        // A HeartbeatResponse is one int64: it always encodes.
        let bytes: [UInt8] = try! response.serializedBytes()
        var frame = context.channel.allocator.buffer(capacity: 5 + bytes.count)
        frame.writeInteger(UInt8(0))
        frame.writeInteger(UInt32(bytes.count))
        frame.writeBytes(bytes)
        context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(frame)))), promise: nil)
    }

    private func finish(_ call: Call, _ error: RPCError?, _ context: ChannelHandlerContext) {
        call.deadline?.cancel()
        end(error, sentHeaders: call.sentHeaders, context: context)
    }

    /// Writes the call's status, OK when `error` is nil. A status with no answer before it goes
    /// out as the response headers themselves ("trailers only"), whose pseudo-header comes first.
    /// The stream is left for the node to close, as grpc-swift leaves it: a reset sent after the
    /// status can reach the node first and hide the status from it.
    private func end(_ error: RPCError?, sentHeaders: Bool, context: ChannelHandlerContext) {
        state = .ended
        let headers = sentHeaders ? Self.trailers(error) : Self.trailersOnly(error)
        context.write(wrapOutboundOut(.headers(.init(headers: headers, endStream: true))), promise: nil)
        context.flush()
    }

    /// The status of a call that ends before any answer (`error`, or OK when nil), as the
    /// response headers themselves, whose pseudo-header comes first.
    package static func trailersOnly(_ error: RPCError?) -> HPACKHeaders {
        var headers = responseHeaders
        headers.add(contentsOf: trailers(error))
        return headers
    }

    package func channelInactive(context: ChannelHandlerContext) {
        if case .answering(let call) = state { call.deadline?.cancel() }
        state = .ended
        context.fireChannelInactive()
    }

    // Back-pressure: a node that sends beats and reads no answers is not read until the stream
    // can take answers again, so the answers it leaves unread do not pile up in memory.
    package func read(context: ChannelHandlerContext) {
        guard case .answering = state, !context.channel.isWritable else { return context.read() }
        readHeldBack = true
    }

    package func channelWritabilityChanged(context: ChannelHandlerContext) {
        if readHeldBack, context.channel.isWritable {
            readHeldBack = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    /// The client's certificate, when the connection is TLS and the client sent one.
    private static func peerCertificate(of context: ChannelHandlerContext) -> Certificate? {
        guard let connection = context.channel.parent,
            let certificate = try? connection.pipeline.syncOperations.nioSSL_peerCertificate(),
            let der = try? certificate.toDERBytes()
        else { return nil }
        return try? Certificate(derEncoded: der)
    }

    // What grpc-swift answers to the same mistakes (its unary request and protobuf decoding), so
    // that a node sees the same status on either path.
    private static let noRequest = RPCError(code: .internalError, message: "Empty stream.")
    private static let tooManyRequests = RPCError(code: .internalError, message: "Too many messages.")

    private static func request(_ message: ByteBuffer) throws(RPCError) -> Beacon_Dispatcher_V1_HeartbeatRequest {
        do {
            return try Beacon_Dispatcher_V1_HeartbeatRequest(serializedBytes: Array(message.readableBytesView))
        } catch {
            throw RPCError(
                code: .invalidArgument,
                message: "Can't deserialize to message of type \(Beacon_Dispatcher_V1_HeartbeatRequest.self).")
        }
    }

    private static func next(_ reader: inout GRPCMessageReader) throws(RPCError) -> ByteBuffer? {
        do { return try reader.next() } catch { throw rpcError(error) }
    }

    private static func checkEnded(_ reader: GRPCMessageReader) throws(RPCError) {
        do { try reader.checkEnded() } catch { throw rpcError(error) }
    }

    /// The status for a body that cannot be cut into messages. For an oversized request grpc-swift
    /// resets the stream instead; a status tells the node why.
    private static func rpcError(_ failure: GRPCMessageReader.Failure) -> RPCError {
        switch failure {
        case .compressedMessage:
            RPCError(
                code: .internalError,
                message: "Received a compressed message payload, but no decompressor has been configured.")
        case .tooLarge(let bytes):
            RPCError(
                code: .resourceExhausted, message: "a heartbeat request of \(bytes) bytes is over the server's limit")
        case .truncated:
            RPCError(code: .internalError, message: "a heartbeat call ended inside a request")
        }
    }

    private static let responseHeaders: HPACKHeaders = [":status": "200", "content-type": "application/grpc"]

    /// The trailers of a call that ends with `error`, or with OK.
    private static func trailers(_ error: RPCError?) -> HPACKHeaders {
        guard let error else { return ["grpc-status": "0"] }
        var trailers: HPACKHeaders = ["grpc-status": String(error.code.rawValue)]
        if !error.message.isEmpty { trailers.add(name: "grpc-message", value: percentEncoded(error.message)) }
        // The error's metadata (a wrong manager names the owner there) travels as grpc-swift
        // sends it: lowercased keys, binary values in base64 (Foundation's encoder).
        for (key, value) in error.metadata {
            switch value {
            case .string(let text): trailers.add(name: key.lowercased(), value: text)
            case .binary(let bytes): trailers.add(name: key.lowercased(), value: Data(bytes).base64EncodedString())
            }
        }
        return trailers
    }

    /// `grpc-message` as the protocol carries it: bytes outside printable ASCII, and `%`, as `%XX`.
    package static func percentEncoded(_ message: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var encoded: [UInt8] = []
        encoded.reserveCapacity(message.utf8.count)
        for byte in message.utf8 {
            if (0x20...0x7E).contains(byte), byte != UInt8(ascii: "%") {
                encoded.append(byte)
            } else {
                encoded += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }
}
#endif
