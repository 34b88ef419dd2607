package import BeaconCoordination
package import BeaconCore
import BeaconPrimitives

/// A session lease refreshed in the background every third of its TTL, as etcd's clients do.
/// `onExpired` runs once, and refreshing stops, when the store answers that the lease is gone or
/// when no refresh has succeeded for a whole TTL: a store that cannot be reached for that long
/// has let the lease lapse as far as anyone can tell, so the holder must not act on it (etcd's
/// client closes its keep-alive channel at the same deadline). A failed refresh is retried
/// sooner, never later than that deadline. The refreshes run on a ``LeaseKeeper``, which sleeps
/// on the holder's clock and tells `onRefresh` what became of each refresh it handled before it
/// sleeps again (the schedule itself: `LeaseRefreshSchedule`).
package final class KeptLease: Sendable {
    /// What one answered refresh did to the lease.
    package enum Refresh: Sendable, Equatable {
        /// The store renewed the lease; it now lasts until `deadline`.
        case renewed(sent: BeaconInstant, deadline: BeaconInstant)
        /// The refresh failed with `error`. The next one goes out at `retry`; nil when the
        /// lease's deadline comes first, and with it the lease's end.
        case failed(sent: BeaconInstant, error: CoordinationError, retry: BeaconInstant?)
    }

    package let granted: GrantedLease
    /// Told what became of each answered refresh, before the keeper sleeps again.
    let onRefresh: @Sendable (Refresh) -> Void
    private let keeper: LeaseKeeper
    private let state = PosixMutex(State())

    private struct State {
        var expiredHandler: (@Sendable () -> Void)?
        var expired = false
        /// The lease's token with its keeper; nil once stopped.
        var token: UInt64?
    }

    /// A lease refreshed by a keeper of its own.
    package convenience init(
        _ granted: GrantedLease, store: any CoordinationStore, clock: some BeaconClock,
        onRefresh: @escaping @Sendable (Refresh) -> Void = { _ in }
    ) {
        self.init(granted, keeper: LeaseKeeper(store: store, clock: clock), onRefresh: onRefresh)
    }

    /// A lease refreshed, with the others it keeps, by `keeper`.
    package init(
        _ granted: GrantedLease, keeper: LeaseKeeper, onRefresh: @escaping @Sendable (Refresh) -> Void = { _ in }
    ) {
        self.granted = granted
        self.onRefresh = onRefresh
        self.keeper = keeper
        let token = keeper.keep(self)
        state.withLock { $0.token = token }
    }

    deinit {
        stop()
    }

    package var id: LeaseID { granted.id }
    package var isExpired: Bool { state.withLock { $0.expired } }

    /// Runs `handler` when the lease is found gone (at once if it already is).
    package func onExpired(_ handler: (@Sendable () -> Void)?) {
        let runNow = state.withLock { state in
            state.expiredHandler = handler
            return state.expired
        }
        if runNow { handler?() }
    }

    /// Stops refreshing; the lease then lapses after its TTL unless revoked.
    package func stop() {
        guard let stopped = state.withLock({ $0.token.take() }) else { return }
        keeper.letGo(stopped)
    }

    func markExpired() {
        let handler = state.withLock { state -> (@Sendable () -> Void)?? in
            guard !state.expired else { return nil }
            state.expired = true
            return .some(state.expiredHandler)
        }
        if case .some(let handler) = handler { handler?() }
    }
}
