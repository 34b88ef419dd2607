import BeaconCore
import BeaconPrimitives

/// A session lease refreshed in the background every third of its TTL, as etcd's clients do.
/// `onExpired` runs once, and refreshing stops, when the store answers that the lease is gone or
/// when no refresh has succeeded for a whole TTL: a store that cannot be reached for that long
/// has let the lease lapse as far as anyone can tell, so the holder must not act on it (etcd's
/// client closes its keep-alive channel at the same deadline). A failed refresh is retried
/// sooner, never later than that deadline. The refresher sleeps on the scheduler's clock.
final class KeptLease: Sendable {
    let granted: GrantedLease
    private let expiredHandler = PosixMutex<(@Sendable () -> Void)?>(nil)
    private let expired = PosixMutex(false)
    private let refresher = PosixMutex<Task<Void, Never>?>(nil)

    init(_ granted: GrantedLease, store: any CoordinationStore, clock: some BeaconClock) {
        self.granted = granted
        let weakLease = WeakBox(self)
        refresher.withLock { refresher in
            refresher = Task.detached {
                await Self.refresh(granted, in: store, on: clock) { weakLease.value?.markExpired() }
            }
        }
    }

    /// Refreshes until the task is cancelled or the store says the lease is gone, which it
    /// reports through `gone`.
    private static func refresh(
        _ granted: GrantedLease, in store: any CoordinationStore, on clock: some BeaconClock, gone: () -> Void
    ) async {
        let interval = granted.ttl / 3
        // The deadline counts from when a refresh was sent, not answered: the store may have
        // renewed the lease at any point in between, so the earlier instant is the safe one.
        var deadline = clock.now.advanced(by: granted.ttl)
        var wait = interval
        while !Task.isCancelled {
            do {
                try await clock.sleep(until: clock.now.advanced(by: wait), tolerance: nil)
            } catch {
                return
            }
            let sent = clock.now
            do {
                if try await store.keepAlive(granted.id) {
                    deadline = sent.advanced(by: granted.ttl)
                    wait = interval
                } else {
                    gone()
                    return
                }
            } catch {
                let now = clock.now
                if now >= deadline {
                    gone()
                    return
                }
                wait = min(interval / 2, now.duration(to: deadline))
            }
        }
    }

    deinit {
        stop()
    }

    var id: LeaseID { granted.id }
    var isExpired: Bool { expired.withLock { $0 } }

    /// Runs `handler` when the lease is found gone (at once if it already is).
    func onExpired(_ handler: (@Sendable () -> Void)?) {
        let runNow = expired.withLock { $0 }
        expiredHandler.withLock { $0 = handler }
        if runNow { handler?() }
    }

    /// Stops refreshing; the lease then lapses after its TTL unless revoked.
    func stop() {
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
