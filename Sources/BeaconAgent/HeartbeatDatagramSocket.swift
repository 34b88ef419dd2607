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
    /// One session's beats and answers. The socket's reader settles each answer as it arrives
    /// (so its round trip is measured then, not when the agent next wakes) and tells the
    /// agent's heartbeat observer.
    final class Inbox: Sendable {
        let session: SessionID
        /// Signalled on each answer that settles a beat.
        let arrived = Wakeup()
        private let clock: any BeaconClock
        private let observer: NodeAgent.HeartbeatObserver?
        private let beats = PosixMutex(DatagramBeats())

        init(session: SessionID, clock: any BeaconClock, observer: NodeAgent.HeartbeatObserver?) {
            self.session = session
            self.clock = clock
            self.observer = observer
        }

        /// Numbers a beat sent now.
        func send() -> (sequence: UInt64, sent: BeaconInstant) {
            let now = clock.now
            return beats.withLock { $0.send(at: now) }
        }

        func deliver(_ reply: HeartbeatDatagram.Reply) {
            let received = clock.now
            guard let settled = beats.withLock({ $0.answer(reply, receivedAt: received) }) else { return }
            observer?(settled.sent, settled.roundTrip)
            arrived.signal()
        }

        /// The period the newest answer gave, the beats sent since it, and when the oldest of
        /// those was sent.
        var standing: (period: Duration?, unansweredInARow: Int, unansweredSince: BeaconInstant?) {
            beats.withLock { ($0.period, $0.unansweredInARow, $0.unansweredSince) }
        }
    }

    /// The sessions whose replies are awaited, by their handle.
    final class Inboxes: Sendable {
        let byHandle = PosixMutex<[HeartbeatHandle: Inbox]>([:])
    }

    private let channel: any Channel
    private let loop: MultiThreadedEventLoopGroup
    private let inboxes: Inboxes

    private init(channel: any Channel, loop: MultiThreadedEventLoopGroup, inboxes: Inboxes) {
        self.channel = channel
        self.loop = loop
        self.inboxes = inboxes
    }

    /// A socket on a free port of every local IPv4 address, or of every IPv6 one, read on a
    /// thread of its own (so answers are timed when they arrive, not when the gRPC loops are
    /// free).
    static func bind(ipv6: Bool) async throws -> HeartbeatDatagramSocket {
        let inboxes = Inboxes()
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let channel = try await bind(ipv6: ipv6, on: loop, routingTo: inboxes)
            return HeartbeatDatagramSocket(channel: channel, loop: loop, inboxes: inboxes)
        } catch {
            try? await loop.shutdownGracefully()
            throw error
        }
    }

    private static func bind(
        ipv6: Bool, on loop: MultiThreadedEventLoopGroup, routingTo inboxes: Inboxes
    ) async throws -> any Channel {
        try await DatagramBootstrap(group: loop)
            // Answers to thousands of agents can arrive while the loop is busy; the default
            // 208 KiB holds some 200 (the kernel caps this at net.core.rmem_max).
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplyHandler(inboxes: inboxes))
                }
            }
            .bind(host: ipv6 ? "::" : "0.0.0.0", port: 0).get()
    }

    /// Starts taking `session`'s replies, timed on `clock` and told to `observer`; ``close(_:)``
    /// stops.
    func open(_ session: SessionID, clock: any BeaconClock, observer: NodeAgent.HeartbeatObserver?) -> Inbox {
        let inbox = Inbox(session: session, clock: clock, observer: observer)
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
        try? await loop.shutdownGracefully()
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
