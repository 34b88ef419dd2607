#if GRPC
import BeaconCore
import BeaconDispatcher
import NIOCore
import NIOPosix

/// The manager's end of the heartbeat datagram lane: a UDP socket on an event loop of its own,
/// whose reads hand every datagram to a ``HeartbeatDatagramResponder`` on that loop, with no hop
/// to another thread or task, and whose answers leave together when a read pass ends.
///
/// The socket reads up to `HeartbeatDatagram.messagesPerRead` datagrams per `recvmmsg` call, and the answers
/// written during one read pass go out in one `sendmmsg` at its end, so a burst of beats costs a
/// wake-up and two system calls, not two per beat. Beats rarely come in bursts on their own, so
/// after each read that did not fill its places the socket waits a `batching` interval before it
/// reads again, letting the beats that arrive meanwhile gather: at 30 000 agents a 1 ms wait
/// answers several beats per wake-up instead of about one.
final class HeartbeatDatagramListener: Sendable {
    private let channel: any Channel
    private let loop: MultiThreadedEventLoopGroup

    private init(channel: any Channel, loop: MultiThreadedEventLoopGroup) {
        self.channel = channel
        self.loop = loop
    }

    /// Binds the socket to `host`:`port` and starts answering beats for `dispatcher`.
    static func bind(
        dispatcher: Dispatcher<MonotonicClock>, host: String, port: Int, batching: Duration
    ) async throws -> HeartbeatDatagramListener {
        // A thread of its own: beats are answered while the gRPC event loops work through a
        // burst of sessions starting or ending, instead of queueing behind it.
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let wait: TimeAmount? = batching > .zero ? .nanoseconds(batching.nanosecondsRoundedUp) : nil
            let channel = try await bind(host: host, port: port, on: loop, answeringFor: dispatcher, batching: wait)
            return HeartbeatDatagramListener(channel: channel, loop: loop)
        } catch {
            try? await loop.shutdownGracefully()
            throw error
        }
    }

    private static func bind(
        host: String, port: Int, on loop: MultiThreadedEventLoopGroup,
        answeringFor dispatcher: Dispatcher<MonotonicClock>, batching: TimeAmount?
    ) async throws -> any Channel {
        try await DatagramBootstrap(group: loop)
            .channelOption(.datagramVectorReadMessageCount, value: HeartbeatDatagram.messagesPerRead)
            .channelOption(
                .socketOption(.so_rcvbuf), value: SocketOptionValue(HeartbeatDatagram.socketReceiveBufferBytes)
            )
            // One `recvmmsg` per wake-up: at the rates a manager sees, a second would nearly
            // always find the socket empty. The loop's epoll is level-triggered, so datagrams left
            // behind wake it again at once.
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelOption(
                .recvAllocator,
                value: FixedSizeRecvByteBufferAllocator(
                    capacity: HeartbeatDatagram.messagesPerRead * HeartbeatDatagram.bytesPerMessageRead)
            )
            // With a batching wait the handler asks for each read itself.
            .channelOption(.autoRead, value: batching == nil)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        HeartbeatDatagramHandler(
                            responder: HeartbeatDatagramResponder(dispatcher: dispatcher), batching: batching))
                }
            }
            .bind(host: host, port: port).get()
    }

    /// Returns once the socket is closed and its thread has ended.
    func run() async {
        try? await channel.closeFuture.get()
        try? await loop.shutdownGracefully()
    }

    /// Closes the socket; beats in flight get no answer.
    func close() {
        channel.close(promise: nil)
    }
}

/// Answers each datagram read, flushes the answers once per read pass and, with a batching
/// wait, asks for the next read once the wait is over.
private final class HeartbeatDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let responder: HeartbeatDatagramResponder<MonotonicClock>
    /// The wait between reads; nil reads as soon as datagrams arrive.
    private let batching: TimeAmount?
    private let metrics = HeartbeatDatagramMetrics()
    /// The responder's counts as last added to the metrics, once per read pass.
    private var recorded = HeartbeatDatagramResponder<MonotonicClock>.Counts()
    private var unflushed = false
    private var readThisPass = 0
    private var nextRead: Scheduled<Void>?

    init(responder: HeartbeatDatagramResponder<MonotonicClock>, batching: TimeAmount?) {
        self.responder = responder
        self.batching = batching
    }

    func channelActive(context: ChannelHandlerContext) {
        if batching != nil { context.read() }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        readThisPass += 1
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
        if readThisPass > 0 {
            metrics.record(responder.counts, since: recorded)
            recorded = responder.counts
        }
        if let batching {
            // A full read means more are waiting: take them now rather than a wait later.
            if readThisPass >= HeartbeatDatagram.messagesPerRead {
                context.read()
            } else {
                nextRead = context.eventLoop.assumeIsolated().scheduleTask(in: batching) { context.read() }
            }
        }
        readThisPass = 0
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        nextRead?.cancel()
        nextRead = nil
        context.fireChannelInactive()
    }

    /// A failed send (a node's address gone, a full socket buffer) loses that answer only; the
    /// node sends again. The socket stays open.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
#endif
