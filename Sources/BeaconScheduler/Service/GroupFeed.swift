import BeaconCoordination
import BeaconCore
import BeaconPrimitives

/// One group as a scheduler sees it: one read, one watch and one ``GroupView``, shared by every
/// participant that scheduler runs in the group.
///
/// mgmt gives each participant its own watch and its own copy of the group; in one process that
/// costs a watch and a view per participant, so a group of 100 held 100 copies of its 200 keys
/// and every change woke 100 watch tasks. The feed keeps one view and hands each subscriber the
/// same copy-on-write value: a change costs one apply and, at most, one copy of the group.
///
/// Subscribers get the current view as soon as they subscribe (if the feed has read the group
/// yet), then every later view in order, and each broken watch as ``Update/failed(_:)``. The feed
/// reads again and starts a new watch after a failure, waiting the shared `Backoff` on the
/// scheduler's clock; it stops when its last subscriber leaves.
final class GroupFeed: Sendable {
    /// What a subscriber is told.
    enum Update: Sendable {
        /// The group as of `view.revision`.
        case view(GroupView)
        /// The watch broke; the feed is reading the group again.
        case failed(SchedulerError)
    }

    typealias Subscriber = @Sendable (Update) -> Void

    private struct State {
        var subscribers: [Int: Subscriber] = [:]
        var nextToken = 0
        var latest: GroupView?
        var loop: Task<Void, Never>?
    }

    let path: GroupPath
    private let store: any CoordinationStore
    private let clock: any BeaconClock
    private let retrySeed: UInt64
    private let state = PosixMutex(State())

    init(path: GroupPath, store: any CoordinationStore, clock: any BeaconClock, retrySeed: UInt64) {
        self.path = path
        self.store = store
        self.clock = clock
        self.retrySeed = retrySeed
    }

    /// Adds `subscriber`, starting the feed if it is the first. Returns the token that
    /// ``unsubscribe(_:)`` takes.
    func subscribe(_ subscriber: @escaping Subscriber) -> Int {
        state.withLock { state in
            let token = state.nextToken
            state.nextToken += 1
            state.subscribers[token] = subscriber
            if let latest = state.latest { subscriber(.view(latest)) }
            if state.loop == nil {
                state.loop = Task.detached { [self] in await run() }
            }
            return token
        }
    }

    /// Removes a subscriber. Returns true if it was the last one: the feed has then stopped for
    /// good, and its owner drops it.
    func unsubscribe(_ token: Int) -> Bool {
        let stopped = state.withLock { state -> Task<Void, Never>? in
            state.subscribers[token] = nil
            guard state.subscribers.isEmpty else { return nil }
            state.latest = nil
            return state.loop.take()
        }
        stopped?.cancel()
        return stopped != nil
    }

    /// Hands `update` to every subscriber under the lock, so that a subscriber joining meanwhile
    /// gets each view exactly once and in order.
    private func publish(_ update: Update) {
        state.withLock { state in
            if case .view(let view) = update { state.latest = view }
            for subscriber in state.subscribers.values { subscriber(update) }
        }
    }

    private func run() async {
        var backoff = GroupParticipant.retryBackoff
        var random = SplitMix64(seed: retrySeed)
        var view = GroupView(path: path)
        while !Task.isCancelled {
            do {
                view.reset(to: try await store.read(prefix: path.prefix))
            } catch {
                try? await backoff.sleep(on: clock, using: &random)
                continue
            }
            publish(.view(view))
            // Stopped during the read: no watch to open, on etcd a connection of its own.
            guard !Task.isCancelled else { return }
            let failure: SchedulerError
            do {
                for try await changes in store.watch(prefix: path.prefix, after: view.revision) {
                    view.apply(changes)
                    publish(.view(view))
                    // The watch works: the next failure is a new one, retried quickly.
                    backoff.reset()
                }
                failure = .backendFailure("watch ended")
            } catch {
                failure =
                    (error as? CoordinationError).map(SchedulerError.init) ?? .backendFailure("watch failed: \(error)")
            }
            guard !Task.isCancelled else { return }
            publish(.failed(failure))
            try? await backoff.sleep(on: clock, using: &random)
        }
    }
}
