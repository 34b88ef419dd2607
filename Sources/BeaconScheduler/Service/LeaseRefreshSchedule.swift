import BeaconCoordination
import BeaconCore

/// When each lease a ``LeaseKeeper`` keeps is refreshed, and what the store's answers do to it:
/// the keeper's logic, driven by the instants its shell passes in, with no clock, task or store
/// of its own.
///
/// A lease is refreshed every third of its TTL, counted from the last answer. Its deadline is a
/// TTL after the last refresh the store renewed was *sent* (the store may have renewed it at any
/// point until the answer came). A failed refresh is retried after half the interval, never
/// later than the deadline; a lease whose deadline passes, or that the store says is gone,
/// expires. While a refresh is in flight the lease waits only for its deadline, so a call that
/// hangs cannot hold it past that.
struct LeaseRefreshSchedule {
    /// What the shell does, in order.
    enum Action: Equatable {
        /// Sends a refresh of the lease kept under `token`, marked as sent at `sent`.
        case refresh(token: UInt64, sent: BeaconInstant)
        /// Tells the lease's holder what an answered refresh did.
        case report(token: UInt64, KeptLease.Refresh)
        /// The lease is gone: the schedule has dropped it.
        case expire(token: UInt64)

        var isRefresh: Bool {
            if case .refresh = self { true } else { false }
        }
    }

    /// What a refresh call came back with.
    enum Answer: Sendable, Equatable {
        case alive(sent: BeaconInstant)
        case gone
        case failed(sent: BeaconInstant, error: CoordinationError)
    }

    private struct Lease {
        let ttl: Duration
        var deadline: BeaconInstant
        var nextRefresh: BeaconInstant
        var inFlight = false
        /// The instant the lease is filed under in `wakes`.
        var wake: BeaconInstant

        var interval: Duration { ttl / 3 }
        /// While a refresh is in flight only the deadline can end the wait.
        var nextWake: BeaconInstant { inFlight ? deadline : min(nextRefresh, deadline) }
    }

    /// A filing of a lease in `wakes`; stale once the lease is gone or filed under another instant.
    private struct Wake: Comparable {
        let instant: BeaconInstant
        let token: UInt64

        static func < (lhs: Wake, rhs: Wake) -> Bool { (lhs.instant, lhs.token) < (rhs.instant, rhs.token) }
    }

    private var leases: [UInt64: Lease] = [:]
    private var wakes = MinHeap<Wake>()

    var isEmpty: Bool { leases.isEmpty }
    var count: Int { leases.count }

    /// Starts keeping a lease granted at `now`: its first refresh a third of `ttl` later, the
    /// instant returned.
    @discardableResult
    mutating func add(_ token: UInt64, ttl: Duration, at now: BeaconInstant) -> BeaconInstant {
        let nextRefresh = now.advanced(by: ttl / 3)
        leases[token] = Lease(ttl: ttl, deadline: now.advanced(by: ttl), nextRefresh: nextRefresh, wake: nextRefresh)
        wakes.insert(Wake(instant: nextRefresh, token: token))
        return nextRefresh
    }

    /// Stops keeping a lease; its filing in `wakes` goes stale.
    mutating func remove(_ token: UInt64) {
        leases[token] = nil
    }

    /// The earliest instant a lease needs the shell, or nil when none is kept.
    mutating func nextWake() -> BeaconInstant? {
        while let first = wakes.first {
            if leases[first.token]?.wake == first.instant { return first.instant }
            _ = wakes.popFirst()
        }
        return nil
    }

    /// Applies the answer to the refresh in flight for `token`, received at `now`.
    mutating func answered(_ token: UInt64, _ answer: Answer, at now: BeaconInstant) -> [Action] {
        var actions: [Action] = []
        update(token, answer: answer, at: now, filed: true, into: &actions)
        return actions
    }

    /// What the leases whose instant has come need at `now`.
    mutating func due(at now: BeaconInstant) -> [Action] {
        var actions: [Action] = []
        while let first = wakes.first, first.instant <= now {
            _ = wakes.popFirst()
            guard leases[first.token]?.wake == first.instant else { continue }
            update(first.token, answer: nil, at: now, filed: false, into: &actions)
        }
        return actions
    }

    /// One lease's step: the answer, if any, then its deadline, then its next refresh, then
    /// where it is filed next. `filed` says whether its current filing is still in `wakes`.
    private mutating func update(
        _ token: UInt64, answer: Answer?, at now: BeaconInstant, filed: Bool, into actions: inout [Action]
    ) {
        guard var lease = leases[token] else { return }
        switch answer {
        case .alive(let sent)?:
            lease.inFlight = false
            lease.deadline = sent.advanced(by: lease.ttl)
            lease.nextRefresh = now.advanced(by: lease.interval)
            actions.append(.report(token: token, .renewed(sent: sent, deadline: lease.deadline)))
        case .gone?:
            leases[token] = nil
            actions.append(.expire(token: token))
            return
        case .failed(let sent, let error)?:
            lease.inFlight = false
            lease.nextRefresh = min(now.advanced(by: lease.interval / 2), lease.deadline)
            let retry = lease.nextRefresh < lease.deadline ? lease.nextRefresh : nil
            actions.append(.report(token: token, .failed(sent: sent, error: error, retry: retry)))
        case nil:
            break
        }
        if now >= lease.deadline {
            leases[token] = nil
            actions.append(.expire(token: token))
            return
        }
        if !lease.inFlight, now >= lease.nextRefresh {
            lease.inFlight = true
            actions.append(.refresh(token: token, sent: now))
        }
        let wake = lease.nextWake
        if !filed || wake != lease.wake { wakes.insert(Wake(instant: wake, token: token)) }
        lease.wake = wake
        leases[token] = lease
    }
}
