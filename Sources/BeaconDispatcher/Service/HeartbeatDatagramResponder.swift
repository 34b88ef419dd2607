public import BeaconCore

/// Answers heartbeat datagrams (``HeartbeatDatagram``) for a ``Dispatcher``: checks each beat's
/// tag against its session's secret and its sequence against the session's last accepted one,
/// beats the node as `Dispatcher.heartbeat(nodeID:session:)` would, and writes the tagged reply.
///
/// A beat that does not check out gets no answer at all (see ``Counts``): an unanswered node
/// sends again, and its session stream, not the datagram lane, tells it when its session is over.
/// Answering forgeries would let anyone bounce traffic off the manager at a spoofed address.
///
/// Not thread-safe: it remembers the last sequence of every session, so give each socket reader
/// its own (a datagram channel reads on one thread). Answering is allocation-free once the
/// sequence table has grown to the highest session slot seen (16 bytes per slot; it grows only for
/// authentic beats, and never past the dispatcher's `maximumNodes`).
///
/// ```swift
/// let responder = HeartbeatDatagramResponder(dispatcher: dispatcher)
/// var reply = [UInt8](repeating: 0, count: HeartbeatDatagram.replyBytes)
/// // `datagram`: the bytes one read of the UDP socket returned.
/// let length = datagram.withUnsafeBytes { request in
///     reply.withUnsafeMutableBytes { responder.answer(request, into: $0) }
/// }
/// // Send `reply[..<length]` back to the datagram's sender when `length` is not 0.
/// ```
public final class HeartbeatDatagramResponder<Clock: BeaconClock> {
    /// What became of the datagrams answered so far.
    public struct Counts: Sendable, Equatable {
        /// Beats accepted and answered.
        public var answered = 0
        /// Datagrams that are not a request of this version (size, magic, sequence 0).
        public var malformed = 0
        /// Requests whose slot holds no session, or whose tag was not made with its secret.
        public var unauthenticated = 0
        /// Authentic requests whose sequence was not above the session's last accepted one: a
        /// replay, or a datagram that arrived after a later one.
        public var replayed = 0
        /// Authentic, fresh requests the heartbeat wheel refused (the session's registration had
        /// just ended).
        public var refused = 0

        public init() {}
    }

    /// A session's last accepted sequence, with the generation of the slot it belongs to.
    private struct LastSequence {
        var generation: UInt32
        var sequence: UInt64
    }

    private let path: HeartbeatPath<Clock>
    private let capacity: Int
    private var lastSequences: [LastSequence] = []
    /// What became of the datagrams answered so far.
    public private(set) var counts = Counts()

    /// A responder for `dispatcher`'s sessions.
    public convenience init(dispatcher: Dispatcher<Clock>) {
        self.init(path: dispatcher.path)
    }

    /// A responder for the sessions of `path` (a `VirtualDispatcher`'s, in the fuzz harness).
    package init(path: HeartbeatPath<Clock>) {
        self.path = path
        capacity = path.sessions.capacity
    }

    /// Answers one datagram: returns the length of the reply written at the start of `reply`
    /// (``HeartbeatDatagram/replyBytes``), or 0 when the datagram gets no answer (``counts``
    /// says why). A `reply` shorter than ``HeartbeatDatagram/replyBytes`` answers nothing and
    /// counts the datagram as malformed.
    ///
    /// - Complexity: O(1), allocation-free unless the sequence table grows.
    public func answer(_ request: UnsafeRawBufferPointer, into reply: UnsafeMutableRawBufferPointer) -> Int {
        guard reply.count >= HeartbeatDatagram.replyBytes, let beat = HeartbeatDatagram.readRequest(request) else {
            counts.malformed += 1
            return 0
        }
        var session: SessionID?
        var stale = false
        let period = path.beat(handle: beat.handle) { secret in
            guard beat.isAuthentic(secret: secret) else { return false }
            session = SessionID(handle: beat.handle, secret: secret)
            guard accept(beat) else {
                stale = true
                return false
            }
            return true
        }
        guard let period, let session else {
            if stale {
                counts.replayed += 1
            } else if session == nil {
                counts.unauthenticated += 1
            } else {
                counts.refused += 1
            }
            return 0
        }
        // The reply's size was checked above, and a dispatcher's periods are positive.
        HeartbeatDatagram.writeCheckedReply(session: session, sequence: beat.sequence, period: period, into: reply)
        counts.answered += 1
        return HeartbeatDatagram.replyBytes
    }

    /// Records `beat`'s sequence as its session's last, if it is above the last one accepted.
    private func accept(_ beat: HeartbeatDatagram.Request) -> Bool {
        let index = Int(beat.handle.index)
        if index >= lastSequences.count {
            guard index < capacity else { return false }
            let grown = min(capacity, max(index + 1, lastSequences.count * 2, 1024))
            lastSequences.append(
                contentsOf: repeatElement(
                    LastSequence(generation: .max, sequence: 0), count: grown - lastSequences.count))
        }
        let last = lastSequences[index]
        if last.generation == beat.handle.generation, beat.sequence <= last.sequence { return false }
        lastSequences[index] = LastSequence(generation: beat.handle.generation, sequence: beat.sequence)
        return true
    }
}
