/// Why an agent's session ended or its configuration was refused.
public enum AgentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A configuration value is out of range or malformed.
    case invalidConfiguration(String)
    /// A certificate or key file could not be read.
    case unreadableFile(path: String, reason: String)
    /// An argument is malformed or too large.
    case invalidArgument(String)
    /// The manager ended the session stream without a first message, or closed it.
    case sessionClosed
    /// The manager asked the node to disconnect (it stopped leading).
    case disconnected
    /// The manager did not answer in time: no first session message, or no answer to a beat.
    case timedOut(String)
    /// ``NodeAgent/run()`` was called on an agent that runs or has run.
    case alreadyRunning
    /// A heartbeat answer carried a period that is not positive.
    case invalidPeriod(Int64)

    public var description: String {
        switch self {
        case .invalidConfiguration(let reason): "invalid agent configuration: \(reason)"
        case .unreadableFile(let path, let reason): "cannot read \(path): \(reason)"
        case .invalidArgument(let reason): "invalid argument: \(reason)"
        case .sessionClosed: "the manager closed the session"
        case .disconnected: "the manager asked the node to disconnect"
        case .timedOut(let what): "timed out: \(what)"
        case .alreadyRunning: "the agent runs (or has run) already; make a new one"
        case .invalidPeriod(let nanoseconds): "the manager answered a heartbeat with a period of \(nanoseconds) ns"
        }
    }
}
