#if GRPC
import BeaconCore
import BeaconDispatcher
import BeaconPrimitives
import NIOCore
import NIOPosix

/// The agents' end of the heartbeat datagram lane: one UDP socket, shared by every agent of a
/// ``ManagerConnections`` that beats this way, that sends their beats and hands each reply to the
/// session it answers.
final class HeartbeatDatagramSocket: Sendable {
    /// One session's replies: the newest that checked out, until its agent takes it.
    final class Inbox: Sendable {
        let session: SessionID
        /// Signalled on each reply.
        let arrived = Wakeup()
        private let newest = PosixMutex<HeartbeatDatagram.Reply?>(nil)

        init(session: SessionID) {
            self.session = session
        }

        func deliver(_ reply: HeartbeatDatagram.Reply) {
            newest.withLock { newest in
                if (newest?.sequence ?? 0) < reply.sequence { newest = reply }
            }
            arrived.signal()
        }

        /// The newest reply since the last call, if any.
        func take() -> HeartbeatDatagram.Reply? {
            newest.withLock { $0.take() }
        }
    }

    /// The sessions whose replies are awaited, by their handle.
    final class Inboxes: Sendable {
        let byHandle = PosixMutex<[HeartbeatHandle: Inbox]>([:])
    }

    private let channel: any Channel
    private let inboxes: Inboxes

    private init(channel: any Channel, inboxes: Inboxes) {
        self.channel = channel
        self.inboxes = inboxes
    }

    /// A socket on a free port of every local IPv4 address, or of every IPv6 one.
    static func bind(ipv6: Bool) async throws -> HeartbeatDatagramSocket {
        let inboxes = Inboxes()
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplyHandler(inboxes: inboxes))
                }
            }
            .bind(host: ipv6 ? "::" : "0.0.0.0", port: 0).get()
        return HeartbeatDatagramSocket(channel: channel, inboxes: inboxes)
    }

    /// Starts taking `session`'s replies; ``close(_:)`` stops.
    func open(_ session: SessionID) -> Inbox {
        let inbox = Inbox(session: session)
        inboxes.byHandle.withLock { $0[session.handle] = inbox }
        return inbox
    }

    func close(_ inbox: Inbox) {
        inboxes.byHandle.withLock { inboxes in
            if inboxes[inbox.session.handle] === inbox { inboxes[inbox.session.handle] = nil }
        }
    }

    /// Sends `session`'s beat number `sequence` to `address`.
    func send(_ session: SessionID, sequence: UInt64, to address: SocketAddress) throws {
        var request = channel.allocator.buffer(capacity: HeartbeatDatagram.requestBytes)
        try request.writeWithUnsafeMutableBytes(minimumWritableBytes: HeartbeatDatagram.requestBytes) { space in
            try HeartbeatDatagram.writeRequest(session: session, sequence: sequence, into: space)
            return HeartbeatDatagram.requestBytes
        }
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: request), promise: nil)
    }

    func close() async {
        try? await channel.close()
    }
}

/// Routes each reply to its session's inbox, if it checks out for that session.
private final class ReplyHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let inboxes: HeartbeatDatagramSocket.Inboxes

    init(inboxes: HeartbeatDatagramSocket.Inboxes) {
        self.inboxes = inboxes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let datagram = Self.unwrapInboundIn(data)
        datagram.data.withUnsafeReadableBytes { bytes in
            guard let handle = HeartbeatDatagram.replyHandle(bytes),
                let inbox = inboxes.byHandle.withLock({ $0[handle] }),
                let reply = HeartbeatDatagram.readReply(bytes, session: inbox.session)
            else { return }
            inbox.deliver(reply)
        }
    }

    /// A send that failed (the manager's port closed) loses that beat only; the agent sends again.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
#endif
