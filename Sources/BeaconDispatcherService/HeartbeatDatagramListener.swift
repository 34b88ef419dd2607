#if GRPC
import BeaconCore
import BeaconDispatcher
import NIOCore
import NIOPosix

/// The manager's end of the heartbeat datagram lane: a UDP socket whose reads hand every
/// datagram to a ``HeartbeatDatagramResponder`` on the event loop that read it, with no hop to
/// another thread or task, and whose answers leave together when a read pass ends.
///
/// The socket reads up to ``messagesPerRead`` datagrams per `recvmmsg` call, and the answers
/// written during one read pass go out in one `sendmmsg` at its end, so a burst of beats costs a
/// wake-up and two system calls, not two per beat.
final class HeartbeatDatagramListener: Sendable {
    /// Datagrams one `recvmmsg` reads at most.
    static let messagesPerRead = 64
    /// Room for each datagram read: more than a request, so that a longer datagram arrives too
    /// long (and is refused) instead of cut down to a request's size.
    static let bytesPerMessage = 64

    private let channel: any Channel
    /// The UDP port the socket is bound to.
    let port: Int

    private init(channel: any Channel) throws {
        self.channel = channel
        guard let port = channel.localAddress?.port else {
            channel.close(promise: nil)
            throw ServiceError.invalidConfiguration("the heartbeat datagram socket has no local port")
        }
        self.port = port
    }

    /// Binds the socket to `host`:`port` (port 0 takes a free one) and starts answering beats for
    /// `dispatcher`.
    static func bind(
        dispatcher: Dispatcher<MonotonicClock>, host: String, port: Int
    ) async throws -> HeartbeatDatagramListener {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.datagramVectorReadMessageCount, value: messagesPerRead)
            .channelOption(
                .recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: messagesPerRead * bytesPerMessage)
            )
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        HeartbeatDatagramHandler(responder: HeartbeatDatagramResponder(dispatcher: dispatcher)))
                }
            }
            .bind(host: host, port: port).get()
        return try HeartbeatDatagramListener(channel: channel)
    }

    /// Returns once the socket is closed.
    func run() async {
        try? await channel.closeFuture.get()
    }

    /// Closes the socket; beats in flight get no answer.
    func close() {
        channel.close(promise: nil)
    }
}

/// Answers each datagram read, and flushes the answers once per read pass.
private final class HeartbeatDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let responder: HeartbeatDatagramResponder<MonotonicClock>
    private var unflushed = false

    init(responder: HeartbeatDatagramResponder<MonotonicClock>) {
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let datagram = Self.unwrapInboundIn(data)
        var reply = context.channel.allocator.buffer(capacity: HeartbeatDatagram.replyBytes)
        let length = datagram.data.withUnsafeReadableBytes { request in
            reply.writeWithUnsafeMutableBytes(minimumWritableBytes: HeartbeatDatagram.replyBytes) { space in
                responder.answer(request, into: space)
            }
        }
        guard length > 0 else { return }
        context.write(
            Self.wrapOutboundOut(AddressedEnvelope(remoteAddress: datagram.remoteAddress, data: reply)), promise: nil)
        unflushed = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if unflushed {
            unflushed = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    /// A failed send (a node's address gone, a full socket buffer) loses that answer only; the
    /// node sends again. The socket stays open.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
#endif
