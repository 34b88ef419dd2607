package import BeaconCoordination
package import BeaconCore
import BeaconPrimitives

/// Refreshes every session lease of one holder (a ``Scheduler``, or a single ``KeptLease``) from
/// one task, on the holder's clock, as a ``LeaseRefreshSchedule`` says.
///
/// A task per lease cost its holder about 7 KB a lease: a scheduler with 10 000 participants
/// kept 10 000 tasks parked on the clock to refresh leases a few times a minute. The keeper's task
/// sleeps until the earliest instant any lease needs it, and exists only while it keeps a lease.
/// Each refresh still runs in a task of its own while it is in flight, so a call that hangs holds
/// up neither the other leases nor its own past its deadline.
package final class LeaseKeeper: Sendable {
    private struct Kept {
        let id: LeaseID
        /// Told of each answered refresh and of the lease's end; weak, so that dropping the
        /// last reference to a lease lets go of it (its `deinit` stops it).
        weak var lease: KeptLease?
        /// The refresh in flight, cancelled when the lease is let go or expires.
        var inFlight: Task<Void, Never>?
    }

    private struct State {
        var schedule = LeaseRefreshSchedule()
        var kept: [UInt64: Kept] = [:]
        /// Answers not yet handed to the schedule, in the order they came.
        var answers: [(token: UInt64, answer: LeaseRefreshSchedule.Answer)] = []
        var nextToken: UInt64 = 0
        var running = false
        /// The instant the task sleeps until: a lease kept meanwhile wakes it only if it needs it
        /// sooner (a scheduler whose participants join by the thousand would otherwise wake it
        /// for each).
        var sleepsUntil: BeaconInstant?
    }

    private let store: any CoordinationStore
    private let clock: any BeaconClock
    private let state = PosixMutex(State())
    private let wakeup = Wakeup()

    package init(store: any CoordinationStore, clock: some BeaconClock) {
        self.store = store
        self.clock = clock
    }

    /// The leases kept now.
    package var count: Int { state.withLock { $0.schedule.count } }

    /// Starts refreshing `lease`, granted now: the lease hears of every answered refresh, and
    /// of its end when it is found gone or its deadline passes (refreshing stops then). Returns
    /// the token ``letGo(_:)`` takes.
    func keep(_ lease: KeptLease) -> UInt64 {
        let now = clock.now
        let (token, start, wake) = state.withLock { state in
            state.nextToken += 1
            let firstRefresh = state.schedule.add(state.nextToken, ttl: lease.granted.ttl, at: now)
            state.kept[state.nextToken] = Kept(id: lease.granted.id, lease: lease)
            defer { state.running = true }
            return (state.nextToken, !state.running, state.sleepsUntil.map { firstRefresh < $0 } ?? true)
        }
        if start {
            Task.detached { [self] in await run() }
        } else if wake {
            wakeup.signal()
        }
        return token
    }

    /// Stops refreshing the lease kept under `token`; a refresh in flight is cancelled and its
    /// answer ignored.
    func letGo(_ token: UInt64) {
        let (inFlight, last) = state.withLock { state in
            state.schedule.remove(token)
            return (state.kept.removeValue(forKey: token)?.inFlight, state.schedule.isEmpty && state.running)
        }
        inFlight?.cancel()
        // Keeping nothing, the task ends now rather than sleep on until the lease's instant (a
        // signal with no task to take it would make the next task's first wait return at once).
        if last { wakeup.signal() }
    }

    /// The task: hands the schedule the answers that came and the instant, performs what it
    /// says, and sleeps until the next instant a lease needs or the next signal.
    private func run() async {
        while true {
            let now = clock.now
            let step = state.withLock {
                state -> (actions: [(LeaseRefreshSchedule.Action, Kept)], wake: BeaconInstant?) in
                var actions: [LeaseRefreshSchedule.Action] = []
                for (token, answer) in state.answers {
                    actions += state.schedule.answered(token, answer, at: now)
                }
                state.answers = []
                actions += state.schedule.due(at: now)
                var performed: [(LeaseRefreshSchedule.Action, Kept)] = []
                for action in actions {
                    switch action {
                    case .refresh(let token, _), .report(let token, _):
                        if let kept = state.kept[token] { performed.append((action, kept)) }
                    case .expire(let token):
                        if let kept = state.kept.removeValue(forKey: token) { performed.append((action, kept)) }
                    }
                }
                // Keeping nothing, the task ends; a lease kept from here on starts another.
                if state.schedule.isEmpty { state.running = false }
                state.sleepsUntil = state.schedule.nextWake()
                return (performed, state.sleepsUntil)
            }
            // Refreshes first: the holders' handlers (a log line each, in an outage of many
            // leases) run one after another on this task, and must not hold up what is due.
            for (action, kept) in step.actions where action.isRefresh { perform(action, kept) }
            for (action, kept) in step.actions where !action.isRefresh { perform(action, kept) }
            guard let wake = step.wake else { return }
            await wakeup.wait(until: wake, on: clock)
        }
    }

    private func perform(_ action: LeaseRefreshSchedule.Action, _ kept: Kept) {
        switch action {
        case .refresh(let token, let sent):
            let task = Task.detached { [self, store] in
                let answer: LeaseRefreshSchedule.Answer
                do throws(CoordinationError) {
                    answer = try await store.keepAlive(kept.id) ? .alive(sent: sent) : .gone
                } catch {
                    answer = .failed(sent: sent, error: error)
                }
                let current = state.withLock { state in
                    guard state.kept[token] != nil else { return false }
                    state.answers.append((token, answer))
                    return true
                }
                if current { wakeup.signal() }
            }
            let kept = state.withLock { state in
                state.kept[token]?.inFlight = task
                return state.kept[token] != nil
            }
            // Let go of between the step and here: nothing will cancel it otherwise.
            if !kept { task.cancel() }
        case .report(_, let refresh):
            kept.lease?.onRefresh(refresh)
        case .expire:
            kept.inFlight?.cancel()
            kept.lease?.markExpired()
        }
    }
}
