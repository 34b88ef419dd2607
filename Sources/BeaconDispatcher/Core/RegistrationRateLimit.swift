import BeaconCore

/// SwarmKit's limit on re-registrations of one node: the window restarts when the last counted
/// registration is older than the period; more than `count` registrations within it are refused
/// (and not counted). Registered nodes keep theirs in ``SessionRegistry``, carried-over nodes in
/// ``LivenessTimers``; a registration carries it over from one to the other.
struct RegistrationRateLimit {
    private(set) var attempts: Int32 = 0

    /// Counts a registration at `now` of `node`, whose last counted registration was at `last`
    /// (nil: never in this term), or throws ``DispatcherError/rateLimited(node:attempts:window:)``.
    mutating func admit(
        _ node: NodeID, since last: BeaconInstant?, at now: BeaconInstant, window: Duration, count: Int
    ) throws(DispatcherError) {
        if let last, now.duration(since: last) <= window, window > .zero {
            attempts += 1
        } else {
            attempts = 1
        }
        guard attempts <= count else {
            attempts -= 1
            throw .rateLimited(node: node.rawValue, attempts: count, window: window)
        }
    }
}
