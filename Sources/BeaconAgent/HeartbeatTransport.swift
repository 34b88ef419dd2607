/// How an agent sends its heartbeats to its manager.
public enum HeartbeatTransport: Sendable, Hashable, CaseIterable {
    /// Messages on one long-lived `HeartbeatStream` call: the default.
    case stream
    /// One unary `Heartbeat` call per beat, SwarmKit's way. Each call opens an HTTP/2 stream,
    /// which costs the manager several times what a message on a stream does.
    case unaryCalls
    /// UDP datagrams (`HeartbeatDatagram`) to the manager's gRPC host, on the same port number,
    /// which answers them only when it serves that lane (`acceptsHeartbeatDatagrams`, `beacon serve
    /// --heartbeat-datagrams`). The cheapest lane for the manager: it reads and answers many
    /// beats per system call. The agent beats once a period without waiting for answers, so a
    /// lost datagram is covered by the next beat; two unanswered in a row, past the call
    /// timeout, end the session. After a session's first beat, one timer thread per
    /// `ManagerConnections` and clock sends the beats of all its agents, a millisecond slot's
    /// worth at a time; the agent's clock must be a `MonotonicClock` or a `ManualClock`.
    case datagrams
}
