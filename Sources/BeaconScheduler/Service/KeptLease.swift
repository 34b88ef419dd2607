package import BeaconCoordination
package import BeaconCore
import BeaconPrimitives

/// A session lease refreshed in the background every third of its TTL, as etcd's clients do.
/// `onExpired` runs once, and refreshing stops, when the store answers that the lease is gone or
/// when no refresh has succeeded for a whole TTL: a store that cannot be reached for that long
/// has let the lease lapse as far as anyone can tell, so the holder must not act on it (etcd's
/// client closes its keep-alive channel at the same deadline). A failed refresh is retried
/// sooner, never later than that deadline. The refresher sleeps on the scheduler's clock, and
/// tells `onRefresh` what became of each refresh it handled before it sleeps again.
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
    private let expiredHandler = PosixMutex<(@Sendable () -> Void)?>(nil)
    private let expired = PosixMutex(false)
    private let refresher = PosixMutex<Task<Void, Never>?>(nil)

    package init(
        _ granted: GrantedLease, store: any CoordinationStore, clock: some BeaconClock,
        onRefresh: @escaping @Sendable (Refresh) -> Void = { _ in }
    ) {
        self.granted = granted
        let weakLease = WeakBox(self)
        refresher.withLock { refresher in
            refresher = Task.detached {
                await Self.refresh(granted, in: store, on: clock, onRefresh: onRefresh) {
                    weakLease.value?.markExpired()
                }
            }
        }
    }

    /// What a refresh call came back with.
    private enum RefreshAnswer: Sendable {
        case alive(sent: BeaconInstant)
        case gone
        case failed(sent: BeaconInstant, error: CoordinationError)
    }

    /// Refreshes until the task is cancelled or the lease is gone, which it reports through
    /// `gone`. Each refresh runs in a task of its own while this loop waits for its answer, the
    /// next refresh or the deadline, whichever comes first: a refresh that hangs (an etcd call
    /// waits out its timeout on each endpoint in turn) cannot hold the holder past the deadline.
    private static func refresh(
        _ granted: GrantedLease, in store: any CoordinationStore, on clock: some BeaconClock,
        onRefresh: (Refresh) -> Void, gone: () -> Void
    ) async {
        let interval = granted.ttl / 3
        // The deadline counts from when a refresh was sent, not answered: the store may have
        // renewed the lease at any point in between, so the earlier instant is the safe one.
        var deadline = clock.now.advanced(by: granted.ttl)
        var nextRefresh = clock.now.advanced(by: interval)
        let answered = Wakeup()
        let answer = PosixMutex<RefreshAnswer?>(nil)
        var inFlight: Task<Void, Never>?
        defer { inFlight?.cancel() }
        while !Task.isCancelled {
            await answered.wait(until: inFlight == nil ? min(nextRefresh, deadline) : deadline, on: clock)
            // Stopped: an answer that came meanwhile is nobody's business any more.
            if Task.isCancelled { return }
            let now = clock.now
            switch answer.withLock({ answer in
                defer { answer = nil }
                return answer
            }) {
            case .alive(let sent)?:
                inFlight = nil
                deadline = sent.advanced(by: granted.ttl)
                nextRefresh = now.advanced(by: interval)
                onRefresh(.renewed(sent: sent, deadline: deadline))
            case .gone?:
                gone()
                return
            case .failed(let sent, let error)?:
                inFlight = nil
                nextRefresh = min(now.advanced(by: interval / 2), deadline)
                onRefresh(.failed(sent: sent, error: error, retry: nextRefresh < deadline ? nextRefresh : nil))
            case nil:
                break
            }
            if now >= deadline {
                gone()
                return
            }
            if inFlight == nil, now >= nextRefresh, !Task.isCancelled {
                inFlight = Task {
                    let result: RefreshAnswer
                    do throws(CoordinationError) {
                        result = try await store.keepAlive(granted.id) ? .alive(sent: now) : .gone
                    } catch {
                        result = .failed(sent: now, error: error)
                    }
                    answer.withLock { $0 = result }
                    answered.signal()
                }
            }
        }
    }

    deinit {
        stop()
    }

    package var id: LeaseID { granted.id }
    package var isExpired: Bool { expired.withLock { $0 } }

    /// Runs `handler` when the lease is found gone (at once if it already is).
    package func onExpired(_ handler: (@Sendable () -> Void)?) {
        let runNow = expired.withLock { $0 }
        expiredHandler.withLock { $0 = handler }
        if runNow { handler?() }
    }

    /// Stops refreshing; the lease then lapses after its TTL unless revoked.
    package func stop() {
        refresher.withLock { $0?.cancel() }
    }

    func markExpired() {
        let first = expired.withLock { expired in
            defer { expired = true }
            return !expired
        }
        guard first else { return }
        expiredHandler.withLock { $0 }?()
    }
}
