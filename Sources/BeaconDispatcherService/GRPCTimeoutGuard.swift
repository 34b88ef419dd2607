#if GRPC
import GRPCCore
package import NIOCore
package import NIOHTTP2

/// Answers, in front of grpc-swift, a call whose `grpc-timeout` grpc-swift cannot take: a
/// negative amount ("-1S"). grpc-swift 2 reads the header with `Int64(_:)`, which takes the sign,
/// and then traps on the amount's precondition before any service code runs, so one request
/// header from any client that reaches the port would end the whole manager. The call gets
/// `INVALID_ARGUMENT` instead, its frames go no further, and the stream is left for the client
/// to close.
///
/// Installed on every stream in every mode of the server (event-loop heartbeats or not), first
/// in the stream's pipeline; it leaves the pipeline once a stream's headers have passed.
package final class GRPCTimeoutGuard: ChannelInboundHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTP2Frame.FramePayload
    package typealias OutboundOut = HTTP2Frame.FramePayload

    private var refused = false

    package init() {}

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        guard case .headers(let headers) = unwrapInboundIn(data),
            let bad = headers.headers[canonicalForm: "grpc-timeout"].first(where: { Self.trapsGRPCSwift(String($0)) })
        else {
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        refused = true
        let answer = EventLoopHeartbeatHandler.trailersOnly(
            RPCError(code: .invalidArgument, message: "grpc-timeout \(bad) is not a deadline: its amount is negative"))
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: answer, endStream: true))), promise: nil)
    }

    /// Whether grpc-swift's `Timeout(decoding:)` would trap on `value`: 2 to 8 characters, a unit
    /// it knows last, and before it an amount `Int64(_:)` reads as negative.
    package static func trapsGRPCSwift(_ value: String) -> Bool {
        guard (2...8).contains(value.count), let unit = value.last, "HMSmun".contains(unit),
            let amount = Int64(value.dropLast())
        else { return false }
        return amount < 0
    }
}
#endif
