import BeaconCore

#if GRPC
import BeaconDispatcher

/// A datagram session's beats, for ``NodeAgent``: their sequence numbers, when each was sent,
/// and which of them the manager answered.
struct DatagramBeats {
    /// The beats sent and not yet answered, oldest first; an answer settles its beat and every
    /// earlier one (datagrams may arrive out of order, and a later answer proves the manager
    /// heard the node since).
    private var unanswered: [(sequence: UInt64, sent: BeaconInstant)] = []
    /// The last number given; the manager refuses any beat not numbered above the last it took.
    private(set) var lastSequence: UInt64
    /// The period the newest answer gave.
    private(set) var period: Duration?
    /// The number of the newest beat answered (0 before the first answer).
    private(set) var lastAnswered: UInt64 = 0
    /// When the newest beat was sent.
    private(set) var lastSent: BeaconInstant?

    /// What a scheduled beat does.
    enum Due {
        /// Goes out with this number.
        case send(sequence: UInt64)
        /// Does not: two beats in a row have gone unanswered for longer than the timeout, and
        /// the session ends.
        case silent
    }

    /// Beats numbered from `lastSequence + 1`: from 1 for a new session, and after the last beat
    /// of the session's previous run when a resumed session continues it.
    init(after lastSequence: UInt64) {
        self.lastSequence = lastSequence
    }

    /// Numbers a beat sent at `instant`.
    mutating func number(sentAt instant: BeaconInstant) -> UInt64 {
        lastSequence += 1
        lastSent = instant
        unanswered.append((lastSequence, instant))
        // Only the oldest counts for the timeout; keep the list short while a manager is silent.
        if unanswered.count > 64 { unanswered.remove(at: 1) }
        return lastSequence
    }

    /// Settles the beat `reply` answers and every earlier one; returns when that beat was sent
    /// and its round trip, or nil for an answer to a beat already settled.
    mutating func answer(
        _ reply: HeartbeatDatagram.Reply, receivedAt received: BeaconInstant
    ) -> (sent: BeaconInstant, roundTrip: Duration)? {
        guard let position = unanswered.firstIndex(where: { $0.sequence == reply.sequence }) else { return nil }
        let sent = unanswered[position].sent
        unanswered.removeFirst(position + 1)
        period = reply.period
        lastAnswered = reply.sequence
        return (sent, received.duration(since: sent))
    }

    /// The beat due at `now`: numbered, unless the manager has fallen silent, which is two beats
    /// in a row unanswered and the older sent more than `timeout` ago.
    mutating func beat(at now: BeaconInstant, timeout: Duration) -> Due {
        if unansweredInARow >= 2, let since = unansweredSince, now.duration(since: since) > timeout { return .silent }
        return .send(sequence: number(sentAt: now))
    }

    /// Beats sent since the last one answered.
    var unansweredInARow: Int { unanswered.count }

    /// When the oldest unanswered beat was sent.
    var unansweredSince: BeaconInstant? { unanswered.first?.sent }
}
#endif
