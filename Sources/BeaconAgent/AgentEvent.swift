#if GRPC
/// What happened to an agent, in order, for whoever follows ``NodeAgent/events``.
public enum AgentEvent: Sendable, Hashable {
    /// A session started on the manager at `manager`.
    case sessionStarted(manager: String, session: String)
    /// An assignment message was applied; `tasks` is the number of tasks the node now holds.
    case assignmentsApplied(tasks: Int, complete: Bool, bytes: Int)
    /// A diff did not follow the last one applied, or the manager ended the stream because the
    /// agent read it too slowly; the agent asked for a COMPLETE set.
    case assignmentGap(String)
    /// The manager accepted this many statuses.
    case statusesAcknowledged(Int)
    /// The manager refused the status of a task, saying it is not this node's; the agent
    /// forgets it rather than send it again.
    case statusRefused(taskID: String, reason: String)
    /// The status of a task was larger than the current manager reads in one request (`limit`
    /// bytes, which it told when the session began): its error and message were cut to fit, so
    /// that its state still reaches the managers.
    case statusCut(taskID: String, limit: Int)
    /// The session ended; `failedOver` says the agent moved the manager to the back of its list.
    case sessionEnded(manager: String, reason: String, failedOver: Bool)
    /// The manager at `manager` does not hold this node and named the one that does, at `owner`:
    /// the agent put that one at the front of its list.
    case redirected(manager: String, owner: String)
}
#endif
