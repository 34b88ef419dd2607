import BeaconSystemShims
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `beacon_send_datagrams`, the manager's send of heartbeat answers: one answer the system refuses
/// loses that answer alone, and each answer leaves from the local address its request came to.
@Suite(.timeLimit(.minutes(1))) struct AnswerDatagramsTests {
    /// An IPv4 address as the shim takes it.
    private static func address(_ text: String, port: UInt16) -> (sockaddr_storage, socklen_t) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, text, &address.sin_addr)
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { space in
            withUnsafeBytes(of: address) { space.copyMemory(from: $0) }
        }
        return (storage, socklen_t(MemoryLayout<sockaddr_in>.size))
    }

    /// A UDP socket bound to `host`, and its port.
    private static func socket(on host: String) throws -> (descriptor: CInt, port: UInt16) {
        var (storage, length) = address(host, port: 0)
        let descriptor = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { beacon_bind_datagram_socket_to($0, length) }
        }
        try #require(descriptor >= 0, "bind: errno \(errno)")
        var bound = sockaddr_in()
        var boundLength = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &boundLength) }
        }
        return (descriptor, UInt16(bigEndian: bound.sin_port))
    }

    /// The first datagram `descriptor` receives, nil if none comes within five seconds (a bound
    /// on a hang, not a measured time).
    private static func receive(on descriptor: CInt) -> [UInt8]? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 5_000) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        return count < 0 ? nil : Array(buffer.prefix(count))
    }

    private static func send(
        from descriptor: CInt, _ answers: [[UInt8]], to destinations: [(sockaddr_storage, socklen_t)],
        from sources: [sockaddr_storage]? = nil
    ) -> Int {
        let bytes = answers.flatMap { $0 }
        let addresses = destinations.map(\.0)
        let lengths = destinations.map(\.1)
        if let sources {
            return Int(
                beacon_send_datagrams(
                    descriptor, bytes, CUnsignedInt(answers[0].count), addresses, lengths, sources,
                    CUnsignedInt(answers.count)))
        }
        return Int(
            beacon_send_datagrams(
                descriptor, bytes, CUnsignedInt(answers[0].count), addresses, lengths, nil, CUnsignedInt(answers.count))
        )
    }

    /// An answer to port 0 (a request a node sent from there) is refused by the system: the
    /// answers before and after it still go.
    @Test func anAnswerTheSystemRefusesIsSkipped() throws {
        let sender = try Self.socket(on: "127.0.0.1")
        let first = try Self.socket(on: "127.0.0.1")
        let last = try Self.socket(on: "127.0.0.1")
        defer { for descriptor in [sender.descriptor, first.descriptor, last.descriptor] { close(descriptor) } }
        let sent = Self.send(
            from: sender.descriptor, [[1, 1, 1], [2, 2, 2], [3, 3, 3]],
            to: [
                Self.address("127.0.0.1", port: first.port), Self.address("127.0.0.1", port: 0),
                Self.address("127.0.0.1", port: last.port),
            ])
        #expect(sent == 2)
        #expect(Self.receive(on: first.descriptor) == [1, 1, 1])
        #expect(Self.receive(on: last.descriptor) == [3, 3, 3])
    }

    /// A socket bound to every address answers from the one named: a node whose socket is
    /// connected to 127.0.0.2 (as NAT or a connection-tracking firewall would insist) gets the
    /// answer, which the route would otherwise send from 127.0.0.1.
    @Test func anAnswerLeavesFromTheAddressItIsGiven() throws {
        let manager = try Self.socket(on: "0.0.0.0")
        let node = try Self.socket(on: "127.0.0.1")
        defer { for descriptor in [manager.descriptor, node.descriptor] { close(descriptor) } }
        var (peer, peerLength) = Self.address("127.0.0.2", port: manager.port)
        let connected = withUnsafePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(node.descriptor, $0, peerLength) }
        }
        try #require(connected == 0)
        let sent = Self.send(
            from: manager.descriptor, [[7, 7]], to: [Self.address("127.0.0.1", port: node.port)],
            from: [Self.address("127.0.0.2", port: 0).0])
        #expect(sent == 1)
        #expect(Self.receive(on: node.descriptor) == [7, 7])
    }
}
