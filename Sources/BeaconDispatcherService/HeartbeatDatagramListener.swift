#if GRPC
import BeaconCore
import BeaconDispatcher
import BeaconSystemShims
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
///
/// Answers are sent on a second descriptor of the socket, not through SwiftNIO's write path,
/// which closes a datagram channel on any send error but two: one request from port 0, or one
/// answer whose route back is briefly gone, would otherwise close the lane and, with it, the
/// server. Each answer leaves from the address its request came to, so a manager listening on a
/// wildcard address answers from the address the agent sent to (`IP_PKTINFO`).
final class HeartbeatDatagramListener: Sendable {
    private let channel: any Channel
    private let loop: MultiThreadedEventLoopGroup
    /// The second descriptor of the socket, which the answers go out on; closed once the channel is.
    private let sender: CInt

    private init(channel: any Channel, loop: MultiThreadedEventLoopGroup, sender: CInt) {
        self.channel = channel
        self.loop = loop
        self.sender = sender
    }

    /// Binds the socket to `host`:`port` and starts answering beats for `dispatcher`.
    static func bind(
        dispatcher: Dispatcher<MonotonicClock>, host: String, port: Int, batching: Duration
    ) async throws -> HeartbeatDatagramListener {
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let descriptor = address.withSockAddr { beacon_bind_datagram_socket_to($0, socklen_t($1)) }
        guard descriptor >= 0 else {
            throw IOError(errnoCode: errno, reason: "binding the heartbeat datagram socket to \(address)")
        }
        let sender = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        guard sender >= 0 else {
            let code = errno
            closeDescriptor(descriptor)
            throw IOError(errnoCode: code, reason: "duplicating the heartbeat datagram socket")
        }
        // A thread of its own: beats are answered while the gRPC event loops work through a
        // burst of sessions starting or ending, instead of queueing behind it.
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let wait: TimeAmount? = batching > .zero ? .nanoseconds(batching.nanosecondsRoundedUp) : nil
            // NIO owns `descriptor` from here: the channel closes it, and so does a channel that
            // fails to be made.
            let channel = try await open(
                descriptor, on: loop, answeringFor: dispatcher, sendingOn: sender, batching: wait)
            return HeartbeatDatagramListener(channel: channel, loop: loop, sender: sender)
        } catch {
            closeDescriptor(sender)
            try? await loop.shutdownGracefully()
            throw error
        }
    }

    private static func open(
        _ descriptor: CInt, on loop: MultiThreadedEventLoopGroup, answeringFor dispatcher: Dispatcher<MonotonicClock>,
        sendingOn sender: CInt, batching: TimeAmount?
    ) async throws -> any Channel {
        try await DatagramBootstrap(group: loop)
            .channelOption(.datagramVectorReadMessageCount, value: HeartbeatDatagram.messagesPerRead)
            .channelOption(
                .socketOption(.so_rcvbuf), value: SocketOptionValue(HeartbeatDatagram.socketReceiveBufferBytes)
            )
            // Which of this host's addresses each request came to, for its answer to leave from.
            .channelOption(.receivePacketInfo, value: true)
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
                            responder: HeartbeatDatagramResponder(dispatcher: dispatcher), sender: sender,
                            batching: batching))
                }
            }
            .withBoundSocket(descriptor).get()
    }

    /// Returns once the socket is closed and its thread has ended.
    func run() async {
        try? await channel.closeFuture.get()
        try? await loop.shutdownGracefully()
        closeDescriptor(sender)
    }

    /// Closes the socket; beats in flight get no answer.
    func close() {
        channel.close(promise: nil)
    }
}

/// Closes a descriptor this file opened (outside the listener, whose `close()` would shadow the
/// system's).
private func closeDescriptor(_ descriptor: CInt) {
    _ = close(descriptor)
}

/// Answers each datagram read, sends the answers once per read pass and, with a batching wait,
/// asks for the next read once the wait is over.
private final class HeartbeatDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let responder: HeartbeatDatagramResponder<MonotonicClock>
    private let sender: CInt
    /// The wait between reads; nil reads as soon as datagrams arrive.
    private let batching: TimeAmount?
    private let metrics = HeartbeatDatagramMetrics()
    /// The responder's counts as last added to the metrics, once per read pass.
    private var recorded = HeartbeatDatagramResponder<MonotonicClock>.Counts()
    /// The read pass's answers, end to end, where each goes and which local address it leaves
    /// from (no family: the socket's own). Allocated once: a datagram costs no allocation here,
    /// answered or not.
    private var answers = [UInt8](repeating: 0, count: HeartbeatDatagram.messagesPerRead * HeartbeatDatagram.replyBytes)
    private var destinations = [sockaddr_storage](
        repeating: sockaddr_storage(), count: HeartbeatDatagram.messagesPerRead)
    private var lengths = [socklen_t](repeating: 0, count: HeartbeatDatagram.messagesPerRead)
    private var sources = [sockaddr_storage](repeating: sockaddr_storage(), count: HeartbeatDatagram.messagesPerRead)
    private var answerCount = 0
    private var readThisPass = 0
    private var nextRead: Scheduled<Void>?

    init(responder: HeartbeatDatagramResponder<MonotonicClock>, sender: CInt, batching: TimeAmount?) {
        self.responder = responder
        self.sender = sender
        self.batching = batching
    }

    func channelActive(context: ChannelHandlerContext) {
        if batching != nil { context.read() }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        readThisPass += 1
        let datagram = Self.unwrapInboundIn(data)
        if answerCount == lengths.count { sendAnswers() }
        let place = answerCount * HeartbeatDatagram.replyBytes
        let length = datagram.data.withUnsafeReadableBytes { request in
            answers.withUnsafeMutableBytes { space in
                responder.answer(
                    request,
                    into: UnsafeMutableRawBufferPointer(rebasing: space[place..<(place + HeartbeatDatagram.replyBytes)])
                )
            }
        }
        guard length > 0 else { return }
        lengths[answerCount] = Self.copy(datagram.remoteAddress, into: &destinations[answerCount])
        if let source = datagram.metadata?.packetInfo?.destinationAddress {
            _ = Self.copy(source, into: &sources[answerCount])
        } else {
            sources[answerCount] = sockaddr_storage()
        }
        answerCount += 1
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if answerCount > 0 { sendAnswers() }
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

    /// Sends the answers gathered. One the system refuses (a request from port 0, a route back
    /// gone) is lost alone, and a full send buffer loses the rest of the pass: the nodes beat
    /// again.
    private func sendAnswers() {
        let sent = beacon_send_datagrams(
            sender, answers, CUnsignedInt(HeartbeatDatagram.replyBytes), destinations, lengths, sources,
            CUnsignedInt(answerCount))
        metrics.recordUnsent(answerCount - Int(sent))
        answerCount = 0
    }

    private static func copy(_ address: SocketAddress, into storage: inout sockaddr_storage) -> socklen_t {
        address.withSockAddr { pointer, length in
            withUnsafeMutableBytes(of: &storage) {
                $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: length))
            }
            return socklen_t(length)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        nextRead?.cancel()
        nextRead = nil
        context.fireChannelInactive()
    }

    /// A failed read loses at most the beats it held; the nodes send again. The socket stays open.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
#endif
