#if GRPC
package import BeaconDispatcher
import BeaconCore
import Metrics

/// What became of the heartbeat datagrams a server received, one counter per outcome of
/// ``HeartbeatDatagramResponder/Counts``: a rising `unauthenticated` or `replayed` count is
/// someone sending beats they cannot sign, or old ones again.
package struct HeartbeatDatagramMetrics: Sendable {
    private let answered = Counter(label: Self.total, dimensions: [("outcome", "answered")])
    private let malformed = Counter(label: Self.total, dimensions: [("outcome", "malformed")])
    private let unauthenticated = Counter(label: Self.total, dimensions: [("outcome", "unauthenticated")])
    private let replayed = Counter(label: Self.total, dimensions: [("outcome", "replayed")])
    private let refused = Counter(label: Self.total, dimensions: [("outcome", "refused")])
    private let unsent = Counter(label: Self.unsentTotal)

    private static let total = "beacon_heartbeat_datagrams_total"
    private static let unsentTotal = "beacon_heartbeat_datagram_answers_unsent_total"

    /// What the instruments mean, for an exporter's help text.
    package static let descriptions: [MetricDescription] = [
        MetricDescription(
            total, .counter,
            "Heartbeat datagrams received, by outcome: answered; malformed; unauthenticated (no session at the slot, or a tag not made with its secret); replayed (a sequence not above the session's last); refused (the node's registration had just ended)."
        ),
        MetricDescription(
            unsentTotal, .counter,
            "Answers to heartbeat datagrams that did not leave: the system refused them (a request from port 0, a route back gone) or the socket's send buffer was full."
        ),
    ]

    /// Counts `count` answers that did not leave.
    func recordUnsent(_ count: Int) {
        if count > 0 { unsent.increment(by: count) }
    }

    /// Adds what `now` counts beyond `before`.
    func record(
        _ now: HeartbeatDatagramResponder<MonotonicClock>.Counts,
        since before: HeartbeatDatagramResponder<MonotonicClock>.Counts
    ) {
        for (counter, added) in [
            (answered, now.answered - before.answered), (malformed, now.malformed - before.malformed),
            (unauthenticated, now.unauthenticated - before.unauthenticated),
            (replayed, now.replayed - before.replayed), (refused, now.refused - before.refused),
        ] where added > 0 {
            counter.increment(by: added)
        }
    }
}
#endif
