#if GRPC
import BeaconCore
import BeaconDispatcher
import BeaconPrimitives
import NIOCore
import NIOPosix

/// The test's side of the datagram lane: a UDP socket that hands over every beat it receives and
/// answers the ones the test asks it to.
final class BeatCatcher: Sendable {
    struct Beat: Sendable {
        /// The session's registration, as the request names it.
        let handle: HeartbeatHandle
        let sequence: UInt64
        let from: SocketAddress
    }

    private let channel: any Channel
    private let received: AsyncStream<Beat>
    private let iterator: PosixMutex<AsyncStream<Beat>.Iterator>

    /// A catcher on `port` of 127.0.0.1 (0: a free one, see ``address``).
    init(port: Int = 0) async throws {
        let (received, sink) = AsyncStream<Beat>.makeStream()
        channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Reader(sink: sink))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        self.received = received
        iterator = PosixMutex(received.makeAsyncIterator())
    }

    /// Where beats reach it.
    var address: SocketAddress {
        get throws {
            guard let address = channel.localAddress else { throw ChannelError.ioOnClosedChannel }
            return address
        }
    }

    /// The next beat received; nil once the socket is closed.
    func next() async -> Beat? {
        var iterator = self.iterator.withLock { $0 }
        let beat = await iterator.next()
        self.iterator.withLock { $0 = iterator }
        return beat
    }

    func answer(_ beat: Beat, for session: SessionID, period: Duration) throws {
        var reply = channel.allocator.buffer(capacity: HeartbeatDatagram.replyBytes)
        try reply.writeWithUnsafeMutableBytes(minimumWritableBytes: HeartbeatDatagram.replyBytes) { space in
            try HeartbeatDatagram.writeReply(session: session, sequence: beat.sequence, period: period, into: space)
            return HeartbeatDatagram.replyBytes
        }
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: beat.from, data: reply), promise: nil)
    }

    func close() async {
        try? await channel.close()
    }

    private final class Reader: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let sink: AsyncStream<Beat>.Continuation

        init(sink: AsyncStream<Beat>.Continuation) {
            self.sink = sink
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let datagram = Self.unwrapInboundIn(data)
            guard let request = datagram.data.withUnsafeReadableBytes({ HeartbeatDatagram.readRequest($0) }) else {
                return
            }
            sink.yield(Beat(handle: request.handle, sequence: request.sequence, from: datagram.remoteAddress))
        }

        func channelInactive(context: ChannelHandlerContext) {
            sink.finish()
        }
    }
}
#endif
