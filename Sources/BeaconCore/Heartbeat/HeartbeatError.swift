/// Why a heartbeat-wheel call was refused. Every public entry point of the wheel, its clocks and
/// its TTL policies throws this instead of trapping on bad input.
public enum HeartbeatError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The handle's node was removed, or its slot has since been given to another node.
    case staleHandle(HeartbeatHandle)
    /// The handle's node has expired; expiry is final, so register the node again.
    case expired(HeartbeatHandle)
    /// The handle was not issued by this wheel.
    case unknownHandle(HeartbeatHandle)
    /// Every slot of the arena is taken. `awaitingRecycle` of them belong to removed nodes whose
    /// slots come back when the wheel next passes them.
    case capacityExhausted(capacity: Int, awaitingRecycle: Int)
    /// A TTL must be positive and at most ``HeartbeatTTL/limit``.
    case invalidTTL(Duration)
    /// A TTL above the wheel's configured maximum.
    case ttlAboveMaximum(ttl: HeartbeatTTL, maximum: HeartbeatTTL)
    /// A configuration value is out of range.
    case invalidConfiguration(String)
    /// Time was moved backwards: a monotonic clock never does that.
    case clockWentBackwards(by: Duration)
    /// `advance` was called while another call to it was still running; the wheel has one owner.
    case concurrentAdvance
    /// The wheel's deadlines are kept in 48 bits of microseconds from its creation (8.9 years).
    case clockRangeExhausted
    /// The timer's thread could not be started, or the timer is already running.
    case timerStartFailed(String)

    /// A sentence naming the problem, the values involved and what to do about it.
    ///
    /// - Complexity: O(m) for the m bytes of the reason a configuration or start error carries;
    ///   O(1) otherwise.
    public var description: String {
        switch self {
        case .staleHandle(let handle):
            "\(handle) is stale: its node was removed, or its slot now belongs to another node"
        case .expired(let handle):
            "\(handle) has expired; expiry is final, register the node again"
        case .unknownHandle(let handle):
            "\(handle) was not issued by this wheel"
        case .capacityExhausted(let capacity, let awaitingRecycle):
            "all \(capacity) node slots are taken (\(awaitingRecycle) by removed nodes not yet recycled); create the wheel with a larger capacity"
        case .invalidTTL(let duration):
            "TTL \(duration) is invalid: it must be positive and at most \(HeartbeatTTL.limit)"
        case .ttlAboveMaximum(let ttl, let maximum):
            "TTL \(ttl) is above this wheel's maximum TTL \(maximum); create the wheel with a larger maximumTTL"
        case .invalidConfiguration(let reason):
            "invalid heartbeat wheel configuration: \(reason)"
        case .clockWentBackwards(let by):
            "time moved backwards by \(by); the wheel needs a monotonic clock"
        case .concurrentAdvance:
            "advance was called while another advance was running; a wheel is advanced by one owner"
        case .clockRangeExhausted:
            "this wheel has run for longer than its 8.9-year deadline range; create a new wheel"
        case .timerStartFailed(let reason):
            "the heartbeat timer could not start: \(reason)"
        }
    }
}
