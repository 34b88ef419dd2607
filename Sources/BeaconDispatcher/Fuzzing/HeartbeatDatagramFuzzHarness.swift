package import BeaconCore

/// The `HeartbeatDatagramFuzz` libFuzzer target's logic: the heartbeat datagram lane as a manager
/// serves it, where anyone may send anything. A ``HeartbeatDatagramResponder`` answers for the
/// heartbeat path of a ``VirtualDispatcher`` holding three registered nodes.
///
/// Every byte starts an operation: an authentic beat with the next sequence, one a little ahead,
/// the last one again or an older one, an arbitrary sequence, a beat with one of its 288 bits
/// flipped, arbitrary bytes of up to 64, a beat of a session the node has since replaced, a node
/// registering again, an answer buffer too small for the reply, or a clock advance (kept well
/// inside the nodes' deadlines, so that every current session stays live).
///
/// A model keeps each node's current session, the ones it replaced, and the last sequence the
/// manager accepted. After each operation the harness checks: a datagram is answered exactly
/// when it is byte for byte the request the node's current session would send for a sequence
/// above the last accepted one (the request is rebuilt with ``HeartbeatDatagram`` for the
/// comparison), and the buffer can hold the reply; an answer reads back for that session with
/// that sequence and a positive period; a datagram left unanswered changes nothing (the
/// heartbeat path counts exactly the answered beats, and a later beat with its sequence is still
/// accepted); and the responder's ``HeartbeatDatagramResponder/Counts`` add up to the datagrams
/// it was handed, with `answered` equal to the model's.
///
/// It lives in the library (with `package` access) so unit tests replay the committed inputs
/// through the same code. Not for use outside Beacon's tests and fuzzers.
package enum HeartbeatDatagramFuzzHarness {
    /// Operations read per input at most.
    static let maximumOperations = 64
    /// Virtual time an input may use up: well below the nodes' first deadline (the default
    /// period of 5 s times its grace), so no session expires during an input.
    static let timeBudget = Duration.seconds(2)

    /// Runs one input; returns a description of the first broken rule, or `nil`.
    package static func run(_ input: UnsafeRawBufferPointer) -> String? {
        var reader = FuzzByteReader(input)
        do {
            var run = try Run()
            var operations = 0
            while operations < maximumOperations, let operation = reader.next() {
                operations += 1
                if let failure = run.step(operation, &reader) { return "operation \(operations): \(failure)" }
            }
            return nil
        } catch {
            return "setup failed: \(error)"
        }
    }

    /// One input's dispatcher, responder and model.
    package struct Run {
        package struct Node {
            let id: NodeID
            var session: SessionID
            var replaced: [SessionID] = []
            /// The last sequence the manager accepted for `session` (0: none yet).
            var lastAccepted: UInt64 = 0
        }

        let dispatcher: VirtualDispatcher
        let responder: HeartbeatDatagramResponder<ManualClock>
        package var nodes: [Node]
        /// Datagrams handed to the responder, and how many the model expected answered.
        private var handed = 0
        private var answered = 0
        private var timeUsed = Duration.zero

        package init() throws(DispatcherError) {
            var configuration = DispatcherConfiguration()
            configuration.rateLimitPeriod = .zero
            let store = InMemoryDispatcherStore()
            let ids = ["node-a", "node-b", "node-c"].compactMap { try? NodeID($0) }
            store.createNodes(ids)
            dispatcher = try VirtualDispatcher(configuration: configuration, store: store)
            try dispatcher.start()
            var nodes: [Node] = []
            for id in ids {
                nodes.append(Node(id: id, session: try dispatcher.registerNow(id).sessionID))
            }
            self.nodes = nodes
            timeUsed = configuration.statusBatchInterval * ids.count
            responder = HeartbeatDatagramResponder(path: dispatcher.core.path)
        }

        /// Performs one operation; returns a description of a broken rule, or nil.
        package mutating func step(_ operation: UInt8, _ reader: inout FuzzByteReader) -> String? {
            let index = reader.byte() % nodes.count
            let node = nodes[index]
            switch operation % 10 {
            case 0: return beat(index, sequence: node.lastAccepted &+ 1)
            case 1: return beat(index, sequence: node.lastAccepted &+ 1 &+ UInt64(reader.byte() % 4))
            case 2: return beat(index, sequence: node.lastAccepted &- UInt64(reader.byte() % 3))
            case 3: return beat(index, sequence: reader.word())
            case 4:
                var request = Self.request(node.session, sequence: node.lastAccepted &+ 1)
                let bit = (reader.byte() << 8 | reader.byte()) % (request.count * 8)
                request[bit / 8] ^= 1 << (bit % 8)
                return hand(request)
            case 5: return hand(reader.lengthPrefixedBytes(limit: 64))
            case 6:
                guard let old = node.replaced.last else { return nil }
                return hand(Self.request(old, sequence: reader.word() | 1))
            case 7: return registerAgain(index)
            case 8:
                return hand(
                    Self.request(node.session, sequence: node.lastAccepted &+ 1),
                    room: reader.byte() % HeartbeatDatagram.replyBytes)
            default:
                let step = Duration.milliseconds(reader.byte())
                guard timeUsed + step < HeartbeatDatagramFuzzHarness.timeBudget else { return nil }
                timeUsed += step
                dispatcher.advance(by: step)
                return nil
            }
        }

        /// Hands the responder `node`'s current session's beat numbered `sequence` (nothing for
        /// 0, which no agent sends).
        private mutating func beat(_ node: Int, sequence: UInt64) -> String? {
            guard sequence > 0 else { return nil }
            return hand(Self.request(nodes[node].session, sequence: sequence))
        }

        private mutating func registerAgain(_ index: Int) -> String? {
            let step = dispatcher.core.configuration.statusBatchInterval
            guard timeUsed + step < HeartbeatDatagramFuzzHarness.timeBudget else { return nil }
            timeUsed += step
            do {
                let message = try dispatcher.registerNow(nodes[index].id)
                nodes[index].replaced.append(nodes[index].session)
                nodes[index].session = message.sessionID
                nodes[index].lastAccepted = 0
                return nil
            } catch {
                return "registering \(nodes[index].id) again failed: \(error)"
            }
        }

        /// The request `session` sends as its beat `sequence` (for 0, which no agent sends, one the
        /// manager refuses as malformed).
        static func request(_ session: SessionID, sequence: UInt64) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: HeartbeatDatagram.requestBytes)
            bytes.withUnsafeMutableBytes {
                HeartbeatDatagram.writeCheckedRequest(session: session, sequence: sequence, into: $0)
            }
            return bytes
        }

        /// The node and sequence `datagram` is an acceptable beat of, if it is one: exactly the
        /// bytes a node's current session sends for a sequence above the last accepted.
        private func acceptable(_ datagram: [UInt8]) -> (node: Int, sequence: UInt64)? {
            guard datagram.count == HeartbeatDatagram.requestBytes else { return nil }
            // The parser only proposes a sequence; the verdict is a byte-for-byte comparison
            // with the request each node's session writes for it, so a parser that accepts too
            // much cannot make the model agree.
            guard let parsed = datagram.withUnsafeBytes({ HeartbeatDatagram.readRequest($0) }) else { return nil }
            for (index, node) in nodes.enumerated()
            where parsed.sequence > node.lastAccepted
                && Self.request(node.session, sequence: parsed.sequence) == datagram
            {
                return (index, parsed.sequence)
            }
            return nil
        }

        /// Hands `datagram` to the responder with `room` bytes for the answer, and checks the
        /// answer against the model.
        private mutating func hand(_ datagram: [UInt8], room: Int = 64) -> String? {
            let expected = room >= HeartbeatDatagram.replyBytes ? acceptable(datagram) : nil
            var reply = [UInt8](repeating: 0, count: room)
            let length = datagram.withUnsafeBytes { request in
                reply.withUnsafeMutableBytes { responder.answer(request, into: $0) }
            }
            handed += 1
            guard let expected else {
                guard length == 0 else { return "answered \(datagram), which no current session sends fresh" }
                return checkCounts()
            }
            guard length == HeartbeatDatagram.replyBytes else {
                return "left \(nodes[expected.node].id)'s beat \(expected.sequence) unanswered (\(responder.counts))"
            }
            let session = nodes[expected.node].session
            guard
                let answer = reply[..<length].withUnsafeBytes({ HeartbeatDatagram.readReply($0, session: session) }),
                answer.sequence == expected.sequence, answer.period > .zero
            else {
                return "the answer to \(nodes[expected.node].id)'s beat \(expected.sequence) does not read back"
            }
            nodes[expected.node].lastAccepted = expected.sequence
            answered += 1
            return checkCounts()
        }

        private func checkCounts() -> String? {
            let counts = responder.counts
            let total = counts.answered + counts.malformed + counts.unauthenticated + counts.replayed + counts.refused
            guard total == handed, counts.answered == answered else {
                return "counts \(counts) after \(handed) datagrams, \(answered) of them answered"
            }
            // A datagram left unanswered must not have beaten its node either: the heartbeat
            // path counts every beat it accepts.
            let beaten = dispatcher.core.path.beats.total
            guard beaten == answered else {
                return "the heartbeat path accepted \(beaten) beats, but \(answered) datagrams deserved one"
            }
            return nil
        }
    }
}
