public import BeaconCoordination

/// Everything the scheduler refuses or reports. Messages follow mgmt's where mgmt has one.
public enum SchedulerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The group path is malformed (mgmt's two path rules).
    case invalidPath(String)
    /// The hostname is empty or holds the join character `,`.
    case invalidHostname(String)
    /// No strategy was named (mgmt: "strategy must be specified").
    case missingStrategy
    /// The named strategy is not in the registry (mgmt panics here).
    case unknownStrategy(String)
    /// A strategy of that name is already registered (mgmt panics here).
    case strategyAlreadyRegistered(String)
    /// This host already takes part in the group through this scheduler.
    case duplicateRegistration(path: String, hostname: String)
    /// Another participant, of another scheduler (another process), registered under the same
    /// host name after this one: reported in band while it lasts. This participant stands by,
    /// still learning the chosen set, and takes the name back when the other leaves or its lease
    /// lapses. (Writing its own registration over the other's, as each would, never ends.)
    case hostNameTaken(path: String, hostname: String)
    /// An option is out of range.
    case invalidOption(String)
    /// The strategy could not choose hosts (no hosts, a maximum below one); in-band, not fatal.
    case strategyFailed(String)
    /// The coordination store failed (etcd unreachable, a transaction refused); in-band, not
    /// fatal: the participant retries.
    case backendFailure(String)
    /// The participant's session lease expired (a partition or a paused store longer than the
    /// TTL); in-band: the participant has registered again under a new lease.
    case leaseLost
    /// The scheduler was closed.
    case closed
    /// The task reading results was cancelled.
    case cancelled

    public var description: String {
        switch self {
        case .invalidPath(let reason): "scheduler: \(reason)"
        case .invalidHostname(let reason): "scheduler: \(reason)"
        case .missingStrategy: "scheduler: strategy must be specified"
        case .unknownStrategy(let name): "scheduler: undefined strategy: \(name)"
        case .strategyAlreadyRegistered(let name): "scheduler: a strategy named \(name) is already registered"
        case .duplicateRegistration(let path, let hostname):
            "scheduler: host \(hostname) is already scheduling in \(path) through this scheduler"
        case .hostNameTaken(let path, let hostname):
            "scheduler: another participant registered as host \(hostname) in \(path) after this one; this one stands by until that one leaves"
        case .invalidOption(let reason): "scheduler: invalid option: \(reason)"
        case .strategyFailed(let reason): "scheduler: strategy failed: \(reason)"
        case .backendFailure(let reason): "scheduler: \(reason)"
        case .leaseLost: "scheduler: session lease lost; registered again under a new lease"
        case .closed: "scheduler: closed"
        case .cancelled: "scheduler: cancelled"
        }
    }
}

extension SchedulerError {
    /// The scheduler's word for what its coordination store reported: an argument out of range
    /// (a lease TTL) is the caller's ``invalidOption(_:)``; everything else is an in-band
    /// ``backendFailure(_:)`` the participant retries.
    public init(_ error: CoordinationError) {
        switch error {
        case .invalidArgument(let reason): self = .invalidOption(reason)
        case .leaseNotFound, .compacted, .failure: self = .backendFailure(error.description)
        }
    }
}
