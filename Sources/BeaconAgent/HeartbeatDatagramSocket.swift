#if GRPC
import BeaconCore
import BeaconDispatcher
import BeaconPrimitives
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

/// The agents' end of the heartbeat datagram lane: one UDP socket, shared by every agent of a
/// ``ManagerConnections`` that beats this way, that sends their beats and hands each reply to the
/// session it answers.
final class HeartbeatDatagramSocket: Sendable {
    /// One session's beats and answers. The sockets' readers settle each answer as it arrives
    /// (so its round trip is measured then, not when the agent next wakes) and tell the agent's
    /// heartbeat observer.
    final class Inbox: Sendable {
        let session: SessionID
        /// Signalled on the first answer, which brings the period.
        let arrived = Wakeup()
        private let clock: any BeaconClock
        private let observer: NodeAgent.HeartbeatObserver?
        private let beats: PosixMutex<DatagramBeats>

        /// An inbox whose beats are numbered after `lastSequence`.
        init(
            session: SessionID, after lastSequence: UInt64, clock: any BeaconClock,
            observer: NodeAgent.HeartbeatObserver?
        ) {
            self.session = session
            self.clock = clock
            self.observer = observer
            beats = PosixMutex(DatagramBeats(after: lastSequence))
        }

        /// Numbers a beat sent now; returns its number and the instant.
        func numberBeat() -> (sequence: UInt64, sent: BeaconInstant) {
            let now = clock.now
            return (beats.withLock { $0.number(sentAt: now) }, now)
        }

        /// The beat the scheduler sends at `now`, or `.silent` (see `DatagramBeats.beat(at:timeout:)`),
        /// and the period the newest answer gave.
        func scheduledBeat(at now: BeaconInstant, timeout: Duration) -> (DatagramBeats.Due, period: Duration?) {
            beats.withLock { beats in (beats.beat(at: now, timeout: timeout), beats.period) }
        }

        /// The newest beat's number and when it was sent (nil before the first).
        var lastBeat: (sequence: UInt64, sent: BeaconInstant)? {
            beats.withLock { beats in beats.lastSent.map { (beats.lastSequence, $0) } }
        }

        /// Settles the beat `reply` answers, if it is this session's.
        func deliver(_ reply: HeartbeatDatagram.Reply) {
            let received = clock.now
            let answered = beats.withLock { beats in
                let first = beats.period == nil
                return beats.answer(reply, receivedAt: received).map { (settled: $0, first: first) }
            }
            guard let answered else { return }
            // Only the session's first beat is awaited (its answer brings the period), and the
            // agent's wait is woken before anyone who learns of the answer from the observer
            // looks at the agent.
            if answered.first { arrived.signal() }
            observer?(answered.settled.sent, answered.settled.roundTrip)
        }

        /// The period the newest answer gave, and the beat it answered.
        var standing: (period: Duration?, lastAnswered: UInt64) {
            beats.withLock { ($0.period, $0.lastAnswered) }
        }
    }

    /// The sessions whose replies are awaited, by their handle. Several managers number their
    /// slots alike, so a handle may name sessions on several; the reply's tag tells them apart.
    final class Inboxes: Sendable {
        let byHandle = PosixMutex<[HeartbeatHandle: [Inbox]]>([:])
    }

    private let channel: any Channel
    private let loop: MultiThreadedEventLoopGroup
    private let inboxes: Inboxes
    /// A second descriptor of the channel's socket, which beats are sent on from the thread that
    /// has them (the beat scheduler's, or an agent's task) without a hop to the event loop;
    /// nil once closed. The lock keeps a send from using it while ``close()`` closes it.
    let sender: PosixMutex<CInt?>

    private init(channel: any Channel, loop: MultiThreadedEventLoopGroup, inboxes: Inboxes, sender: CInt) {
        self.channel = channel
        self.loop = loop
        self.inboxes = inboxes
        self.sender = PosixMutex(sender)
    }

    /// A socket on a free port of every local IPv4 address, or of every IPv6 one, read on a
    /// thread of its own (so answers are timed when they arrive, not when the gRPC loops are
    /// free).
    static func bind(ipv6: Bool) async throws -> HeartbeatDatagramSocket {
        let descriptor = beacon_bind_datagram_socket(ipv6 ? 1 : 0)
        guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "binding a heartbeat datagram socket") }
        let sender = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        guard sender >= 0 else {
            let code = errno
            closeDescriptor(descriptor)
            throw IOError(errnoCode: code, reason: "duplicating a heartbeat datagram socket")
        }
        let inboxes = Inboxes()
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            // NIO owns `descriptor` from here: the channel closes it, and so does a channel that
            // fails to be made, unless it fails at ignoring SIGPIPE, where NIO leaves it open.
            let channel = try await open(descriptor, on: loop, routingTo: inboxes)
            return HeartbeatDatagramSocket(channel: channel, loop: loop, inboxes: inboxes, sender: sender)
        } catch {
            closeDescriptor(sender)
            try? await loop.shutdownGracefully()
            throw error
        }
    }

    private static func open(
        _ descriptor: CInt, on loop: MultiThreadedEventLoopGroup, routingTo inboxes: Inboxes
    ) async throws -> any Channel {
        try await DatagramBootstrap(group: loop)
            .channelOption(
                .socketOption(.so_rcvbuf), value: SocketOptionValue(HeartbeatDatagram.socketReceiveBufferBytes)
            )
            // Answers to a slot's beats come back close together: read them with `recvmmsg`,
            // once per wake-up (the loop's epoll is level-triggered, so any left behind wake it
            // again at once).
            .channelOption(.datagramVectorReadMessageCount, value: HeartbeatDatagram.messagesPerRead)
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelOption(
                .recvAllocator,
                value: FixedSizeRecvByteBufferAllocator(
                    capacity: HeartbeatDatagram.messagesPerRead * HeartbeatDatagram.bytesPerMessageRead)
            )
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplyHandler(inboxes: inboxes))
                }
            }
            .withBoundSocket(descriptor).get()
    }

    /// Starts handing `inbox` the replies meant for its session; ``unregister(_:)`` stops.
    func register(_ inbox: Inbox) {
        inboxes.byHandle.withLock { $0[inbox.session.handle, default: []].append(inbox) }
    }

    func unregister(_ inbox: Inbox) {
        inboxes.byHandle.withLock { inboxes in
            inboxes[inbox.session.handle]?.removeAll { $0 === inbox }
            if inboxes[inbox.session.handle]?.isEmpty == true { inboxes[inbox.session.handle] = nil }
        }
    }

    /// Every address `address` names (a name may resolve to IPv4 and IPv6 addresses; only one of
    /// them may be the manager's, and the host may not be able to use the other family at all),
    /// resolved on NIO's blocking pool rather than a task's thread. Not with `AI_ADDRCONFIG`,
    /// which does not count loopback addresses as configured: on a host with no other interface
    /// it would hide a manager on `localhost`. The session skips a family it cannot open instead.
    static func destinations(of address: ManagerAddress) async throws -> [SocketAddress] {
        let resolved = try await NIOThreadPool.singleton.runIfActive {
            try resolve(host: address.host, port: address.port)
        }
        guard !resolved.isEmpty else {
            throw AgentError.invalidConfiguration("manager host \(address.host) resolves to no address")
        }
        return resolved
    }

    private static func resolve(host: String, port: Int) throws -> [SocketAddress] {
        if let literal = try? SocketAddress(ipAddress: host, port: port) { return [literal] }
        var hints = addrinfo()
        hints.ai_socktype = Self.datagramSocketType
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let list else {
            throw AgentError.invalidConfiguration(
                "cannot resolve manager host \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            if let raw = current.pointee.ai_addr {
                switch current.pointee.ai_family {
                case AF_INET:
                    addresses.append(
                        raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                            SocketAddress($0.pointee, host: host)
                        })
                case AF_INET6:
                    addresses.append(
                        raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                            SocketAddress($0.pointee, host: host)
                        })
                default: break
                }
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }

    #if canImport(Darwin)
    private static let datagramSocketType = SOCK_DGRAM
    #else
    private static let datagramSocketType = Int32(SOCK_DGRAM.rawValue)
    #endif

    /// A beat to send: its session, its number and where it goes.
    struct Beat: Sendable {
        let session: SessionID
        let sequence: UInt64
        let destination: SocketAddress
    }

    /// Sends `beats`, from the calling thread, with one `sendmmsg` per 64 (the requests and their
    /// addresses laid out once). A beat the system refuses (a manager's address unreachable), or
    /// those a full send buffer stops, are lost alone: the next ones stand in for them.
    func send(_ beats: [Beat]) {
        let size = HeartbeatDatagram.requestBytes
        var requests = [UInt8](repeating: 0, count: beats.count * size)
        var addresses = [sockaddr_storage](repeating: sockaddr_storage(), count: beats.count)
        var lengths = [socklen_t](repeating: 0, count: beats.count)
        requests.withUnsafeMutableBytes { space in
            for (position, beat) in beats.enumerated() {
                // Sequences start at 1 (`DatagramBeats` numbers them) and each place is a request's size.
                HeartbeatDatagram.writeCheckedRequest(
                    session: beat.session, sequence: beat.sequence,
                    into: UnsafeMutableRawBufferPointer(rebasing: space[(position * size)..<((position + 1) * size)]))
                beat.destination.withSockAddr { address, length in
                    withUnsafeMutableBytes(of: &addresses[position]) { storage in
                        storage.copyMemory(from: UnsafeRawBufferPointer(start: address, count: length))
                    }
                    lengths[position] = socklen_t(length)
                }
            }
        }
        sender.withLock { descriptor in
            guard let descriptor else { return }
            _ = beacon_send_datagrams(
                descriptor, requests, CUnsignedInt(size), addresses, lengths, nil, CUnsignedInt(beats.count))
        }
    }

    func close() async {
        sender.withLock { descriptor in
            if let open = descriptor.take() { closeDescriptor(open) }
        }
        try? await channel.close()
        try? await loop.shutdownGracefully()
    }
}

/// Closes a descriptor this file opened (outside the socket type, whose `close()` would shadow
/// the system's).
private func closeDescriptor(_ descriptor: CInt) {
    _ = close(descriptor)
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
            guard let handle = HeartbeatDatagram.replyHandle(bytes) else { return }
            for inbox in inboxes.byHandle.withLock({ $0[handle] ?? [] }) {
                if let reply = HeartbeatDatagram.readReply(bytes, session: inbox.session) {
                    inbox.deliver(reply)
                    return
                }
            }
        }
    }

    /// A read that failed loses at most the answers it held: beats go on, and a session whose
    /// answers stop ends by the silence rule.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
#endif
