import BeaconCore
import BeaconDispatcher
import Testing

/// The heartbeat datagram lane's wire format and its responder, against the public API and in
/// virtual time: an authentic beat counts as a heartbeat, and nothing else does.
@Suite struct HeartbeatDatagramTests {
    private func request(_ session: SessionID, _ sequence: UInt64) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: HeartbeatDatagram.requestBytes)
        try bytes.withUnsafeMutableBytes {
            try HeartbeatDatagram.writeRequest(session: session, sequence: sequence, into: $0)
        }
        return bytes
    }

    /// The responder's reply to `request`: empty when it gives none.
    private func answer(
        _ responder: HeartbeatDatagramResponder<ManualClock>, _ request: [UInt8], room: Int = 64
    ) -> [UInt8] {
        var reply = [UInt8](repeating: 0, count: room)
        let length = request.withUnsafeBytes { request in
            reply.withUnsafeMutableBytes { responder.answer(request, into: $0) }
        }
        return Array(reply[..<length])
    }

    /// A leader on a manual clock with node-a registered, and a responder for its dispatcher.
    private func registeredNode() async throws -> (
        Leader, NodeID, NodeSession, HeartbeatDatagramResponder<ManualClock>
    ) {
        let node = nodeID("node-a")
        let leader = try await Leader()
        leader.store.base.createNode(node)
        let session = try await leader.register(node)
        return (leader, node, session, HeartbeatDatagramResponder(dispatcher: leader.dispatcher))
    }

    private func read(_ reply: [UInt8], for session: SessionID) -> (sequence: UInt64, period: Duration)? {
        reply.withUnsafeBytes { HeartbeatDatagram.readReply($0, session: session) }.map { ($0.sequence, $0.period) }
    }

    @Test func requestsAndRepliesReadBackOnlyForTheirSession() throws {
        let session = try SessionID("0000000700000003" + "00000000deadbeef")
        let otherSecret = try SessionID("0000000700000003" + "00000000deadbeee")
        let otherHandle = try SessionID("0000000700000004" + "00000000deadbeef")

        let bytes = try request(session, 42)
        let parsed = try #require(bytes.withUnsafeBytes { HeartbeatDatagram.readRequest($0) })
        #expect(parsed.handle == session.handle && parsed.sequence == 42)
        #expect(parsed.isAuthentic(secret: session.secret))
        #expect(!parsed.isAuthentic(secret: otherSecret.secret))

        var reply = [UInt8](repeating: 0, count: HeartbeatDatagram.replyBytes)
        try reply.withUnsafeMutableBytes {
            try HeartbeatDatagram.writeReply(session: session, sequence: 42, period: .microseconds(1500), into: $0)
        }
        #expect(reply.withUnsafeBytes { HeartbeatDatagram.replyHandle($0) } == session.handle)
        let answer = try #require(read(reply, for: session))
        #expect(answer.sequence == 42 && answer.period == .microseconds(1500))
        #expect(read(reply, for: otherSecret) == nil)
        #expect(read(reply, for: otherHandle) == nil)

        // Every other size, a request read as a reply and a reply as a request are refused.
        #expect(
            bytes.withUnsafeBytes { HeartbeatDatagram.readRequest(UnsafeRawBufferPointer(rebasing: $0.dropLast())) }
                == nil)
        #expect((bytes + [0]).withUnsafeBytes { HeartbeatDatagram.readRequest($0) } == nil)
        #expect(reply.withUnsafeBytes { HeartbeatDatagram.readRequest($0) } == nil)
        #expect(read(bytes, for: session) == nil)

        var short = [UInt8](repeating: 0, count: HeartbeatDatagram.requestBytes - 1)
        #expect(throws: DispatcherError.self) {
            try short.withUnsafeMutableBytes {
                try HeartbeatDatagram.writeRequest(session: session, sequence: 1, into: $0)
            }
        }
        #expect(throws: DispatcherError.self) { _ = try request(session, 0) }
        #expect(throws: DispatcherError.self) {
            try reply.withUnsafeMutableBytes {
                try HeartbeatDatagram.writeReply(session: session, sequence: 1, period: .zero, into: $0)
            }
        }
    }

    /// Two datagram beats 2.5 s apart carry the node past its first deadline (3 s after its
    /// registration), each answered with the dispatcher's period; silent after them, it goes down
    /// 3 s after the last, and its old session's beats are then refused.
    @Test func anAuthenticBeatKeepsItsNodeAliveAndIsAnsweredWithItsPeriod() async throws {
        let (leader, node, session, responder) = try await registeredNode()
        for sequence: UInt64 in 1...2 {
            try await leader.advance(by: .milliseconds(2_500))
            let reply = try #require(read(answer(responder, try request(session.id, sequence)), for: session.id))
            #expect(reply.sequence == sequence && reply.period == .seconds(1))
            #expect(leader.dispatcher.state(of: node) == .ready)
        }
        try await leader.advance(by: .milliseconds(2_999))
        #expect(leader.dispatcher.state(of: node) == .ready)
        try await leader.advance(by: .milliseconds(5))
        #expect(leader.dispatcher.state(of: node) == .down)
        #expect(answer(responder, try request(session.id, 3)).isEmpty)
        #expect(responder.counts.answered == 2 && responder.counts.unauthenticated == 1)
        try await leader.stop()
    }

    /// After one accepted beat, a replay of it, an older beat, every one-bit corruption of a new
    /// beat, a guessed secret and a reply buffer too small are all refused, and none of them moves
    /// the node's deadline: it goes down 3 s after the accepted beat.
    @Test func aReplayedForgedOrCorruptBeatIsNotAnsweredAndDoesNotKeepTheNodeAlive() async throws {
        let (leader, node, session, responder) = try await registeredNode()
        try await leader.advance(by: .seconds(2))
        let accepted = try request(session.id, 5)
        #expect(!answer(responder, accepted).isEmpty)

        try await leader.advance(by: .milliseconds(2_500))
        #expect(answer(responder, accepted).isEmpty)
        #expect(answer(responder, try request(session.id, 4)).isEmpty)
        #expect(responder.counts.replayed == 2)

        let fresh = try request(session.id, 6)
        for bit in 0..<(fresh.count * 8) {
            var corrupt = fresh
            corrupt[bit / 8] ^= 1 << (bit % 8)
            #expect(answer(responder, corrupt).isEmpty, "bit \(bit) flipped")
        }
        // The magic's and the reserved word's 96 bits make a datagram that is not a request; the
        // handle's, the sequence's and the tag's 192 a forgery.
        #expect(responder.counts.malformed == 96 && responder.counts.unauthenticated == 192)

        var text = session.id.description
        let last = text.removeLast()
        let guessed = try SessionID(text + (last == "0" ? "1" : "0"))
        #expect(answer(responder, try request(guessed, 7)).isEmpty)
        #expect(answer(responder, fresh, room: HeartbeatDatagram.replyBytes - 1).isEmpty)
        #expect(responder.counts.unauthenticated == 193 && responder.counts.malformed == 97)
        #expect(responder.counts.answered == 1)

        try await leader.advance(by: .milliseconds(499))
        #expect(leader.dispatcher.state(of: node) == .ready)
        try await leader.advance(by: .milliseconds(5))
        #expect(leader.dispatcher.state(of: node) == .down)
        try await leader.stop()
    }
}
