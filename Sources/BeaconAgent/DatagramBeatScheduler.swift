#if GRPC
import BeaconCore
import BeaconDispatcher
import BeaconPrimitives
import NIOCore

/// Sends the steady beats of the datagram sessions of one ``ManagerConnections`` whose agents
/// run on one clock, from the thread of a `HeartbeatTimer`: each session is a node on the timer's
/// wheel whose deadline is its next beat, and every slot's beats leave as one batch per socket.
///
/// A process that runs many agents (a load generator, a relay) then pays one timer wake-up and
/// one hop to the socket's event loop per slot, not a task switch, a system timer and a hop per
/// beat. A beat goes at most one slot (1 ms) after it is due; dues advance by whole periods, so
/// that lateness does not add up.
protocol DatagramBeatScheduling: Sendable {
    /// Starts beating `session`: the first beat one `period` from now, then once per the period
    /// the latest answer gave.
    ///
    /// - Throws: ``AgentError/invalidConfiguration(_:)`` when the wheel holds no more sessions.
    func start(_ session: DatagramBeating, after period: Duration) throws(AgentError)

    /// Stops beating `session`; no beat of it is numbered after this returns.
    func stop(_ session: DatagramBeating)

    /// Stops the timer's thread. Sessions still started get no more beats.
    func close()
}

/// One datagram session's steady beats, as ``DatagramBeatScheduling`` sends them.
final class DatagramBeating: Sendable {
    let inbox: HeartbeatDatagramSocket.Inbox
    let socket: HeartbeatDatagramSocket
    let destination: SocketAddress
    /// How long beats may go unanswered: two in a row, unanswered this long, end the session.
    let timeout: Duration
    /// Told of each beat as it is numbered, with its number and the instant.
    let onBeat: @Sendable (UInt64, BeaconInstant) -> Void
    private let ended = PosixMutex<AgentError?>(nil)
    private let endSignal = Wakeup()

    init(
        inbox: HeartbeatDatagramSocket.Inbox, socket: HeartbeatDatagramSocket, destination: SocketAddress,
        timeout: Duration, onBeat: @escaping @Sendable (UInt64, BeaconInstant) -> Void
    ) {
        self.inbox = inbox
        self.socket = socket
        self.destination = destination
        self.timeout = timeout
        self.onBeat = onBeat
    }

    /// The error that ends a session whose manager stopped answering its beats.
    static func silent(after timeout: Duration) -> AgentError {
        .timedOut("no answer to a heartbeat datagram within \(timeout) (does the manager serve them?)")
    }

    /// Ends the session's wait in ``ending(on:)`` with `reason`.
    func end(_ reason: AgentError) {
        ended.withLock { $0 = $0 ?? reason }
        endSignal.signal()
    }

    /// Waits until the scheduler ends the session, and returns why; throws `CancellationError`
    /// when the task is cancelled first.
    func ending(on clock: some BeaconClock) async throws -> AgentError {
        while true {
            await endSignal.wait(until: nil, on: clock)
            try Task.checkCancellation()
            if let reason = ended.withLock({ $0 }) { return reason }
        }
    }
}

final class DatagramBeatScheduler<Clock: BeaconClock>: DatagramBeatScheduling {
    private struct Filed {
        var byHandle: [HeartbeatHandle: Entry] = [:]
        var handleOf: [ObjectIdentifier: HeartbeatHandle] = [:]
    }

    private struct Entry {
        let session: DatagramBeating
        /// When the next beat is due.
        var due: BeaconInstant
        var period: Duration
    }

    private let timer: HeartbeatTimer<Clock>
    private let filed = PosixMutex(Filed())

    /// The wheel's horizon: a longer period is filed in steps of this.
    private static var horizon: Duration { .seconds(60) }

    /// A scheduler whose thread runs on `clock`, which must be a `MonotonicClock` or a
    /// `ManualClock` (the clocks a thread can wait on).
    init(clock: Clock) throws(AgentError) {
        do {
            timer = try HeartbeatTimer(
                configuration: HeartbeatWheelConfiguration(
                    slotWidth: .milliseconds(1), maximumTTL: Self.horizon, stallThreshold: nil),
                clock: clock)
        } catch {
            throw .invalidConfiguration("heartbeat datagrams cannot be scheduled: \(error)")
        }
        do {
            try timer.start { [weak self] expiry in self?.beat(expiry.handles) }
        } catch {
            throw .invalidConfiguration("heartbeat datagrams cannot be scheduled: \(error)")
        }
    }

    func start(_ session: DatagramBeating, after period: Duration) throws(AgentError) {
        let now = timer.wheel.clock.now
        try filed.withLock { filed throws(AgentError) in
            try file(Entry(session: session, due: now.advanced(by: period), period: period), at: now, in: &filed)
        }
    }

    func stop(_ session: DatagramBeating) {
        filed.withLock { filed in
            guard let handle = filed.handleOf.removeValue(forKey: ObjectIdentifier(session)) else { return }
            filed.byHandle[handle] = nil
            // An expiry already on its way finds no entry and is dropped.
            _ = try? timer.wheel.remove(handle)
        }
    }

    func close() {
        timer.stop()
    }

    /// Files `entry` under its due instant, or, past the wheel's horizon, the horizon.
    private func file(_ entry: Entry, at now: BeaconInstant, in filed: inout Filed) throws(AgentError) {
        let wait = max(now.duration(to: entry.due), .microseconds(1))
        let handle: HeartbeatHandle
        do {
            handle = try timer.wheel.register(ttl: HeartbeatTTL(min(wait, Self.horizon)))
        } catch {
            throw .invalidConfiguration("cannot schedule another heartbeat datagram session: \(error)")
        }
        filed.byHandle[handle] = entry
        filed.handleOf[ObjectIdentifier(entry.session)] = handle
    }

    /// On the timer's thread: numbers the beats of the sessions due, files them again, and sends
    /// them, one batch per socket. Sessions whose manager fell silent end instead.
    private func beat(_ handles: [HeartbeatHandle]) {
        let now = timer.wheel.clock.now
        var batches: [ObjectIdentifier: (socket: HeartbeatDatagramSocket, beats: [HeartbeatDatagramSocket.Beat])] = [:]
        var endings: [(DatagramBeating, AgentError)] = []
        filed.withLock { filed in
            for handle in handles {
                guard var entry = filed.byHandle.removeValue(forKey: handle) else { continue }
                let session = entry.session
                filed.handleOf[ObjectIdentifier(session)] = nil
                if now >= entry.due {
                    let standing = session.inbox.standing
                    if let period = standing.period { entry.period = period }
                    if standing.unansweredInARow >= 2, let since = standing.unansweredSince,
                        now.duration(since: since) > session.timeout
                    {
                        endings.append((session, DatagramBeating.silent(after: session.timeout)))
                        continue
                    }
                    let beat = session.inbox.numberBeat()
                    session.onBeat(beat.sequence, beat.sent)
                    batches[ObjectIdentifier(session.socket), default: (session.socket, [])].beats.append(
                        HeartbeatDatagramSocket.Beat(
                            session: session.inbox.session, sequence: beat.sequence, destination: session.destination))
                    entry.due = entry.due.advanced(by: entry.period)
                    if entry.due <= now { entry.due = now.advanced(by: entry.period) }
                }
                do throws(AgentError) {
                    try file(entry, at: now, in: &filed)
                } catch {
                    endings.append((session, error))
                }
            }
        }
        for (session, reason) in endings { session.end(reason) }
        for batch in batches.values { batch.socket.send(batch.beats) }
    }
}
#endif
