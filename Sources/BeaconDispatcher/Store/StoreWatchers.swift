import BeaconPrimitives

/// A store's watchers and the events waiting for them, shared by the stores of this package.
///
/// A store queues each commit's events while it holds its own lock, so the queue is in commit
/// order even when commits race, and delivers them once it has let go, so that watchers may read
/// the store from their callback. Delivery takes turns: one caller at a time hands out everything
/// queued, in order.
package final class StoreWatchers: Sendable {
    private struct State {
        var observers: [Int: @Sendable (StoreEvent) -> Void] = [:]
        var nextObserver = 0
        var queued: [StoreEvent] = []
    }

    private let state = PosixMutex(State())
    /// Held while handing out; its value is the buffer being handed out, which trades places with
    /// the queue (so neither is copied, and both keep their capacity).
    private let delivery = PosixMutex([StoreEvent]())

    package init() {}

    /// Adds `observer` until the returned watch is cancelled or released.
    package func watch(_ observer: @escaping @Sendable (StoreEvent) -> Void) -> StoreWatch {
        let token = state.withLock { state in
            state.nextObserver += 1
            state.observers[state.nextObserver] = observer
            return state.nextObserver
        }
        return StoreWatch { [weak self] in
            self?.state.withLock { _ = $0.observers.removeValue(forKey: token) }
        }
    }

    /// Queues a commit's events; call it while holding the store's lock.
    package func enqueue(_ events: some Sequence<StoreEvent>) {
        state.withLock { $0.queued.append(contentsOf: events) }
    }

    /// Queues one event of a commit; call it while holding the store's lock.
    package func enqueue(_ event: StoreEvent) {
        state.withLock { $0.queued.append(event) }
    }

    /// Hands every queued event to every watcher, in order; call it without the store's lock.
    package func deliverPending() {
        delivery.withLock { handing in
            while true {
                let observers = state.withLock { state in
                    swap(&state.queued, &handing)
                    return Array(state.observers.values)
                }
                guard !handing.isEmpty else { return }
                for event in handing {
                    for observer in observers { observer(event) }
                }
                handing.removeAll(keepingCapacity: true)
            }
        }
    }
}
