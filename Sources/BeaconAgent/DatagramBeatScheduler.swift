#if GRPC
import BeaconCore
import BeaconDispatcher
import BeaconPrimitives
import NIOCore
import Synchronization

/// Sends the steady beats of the datagram sessions of one ``ManagerConnections`` whose agents
/// run on one clock, from the thread of a `HeartbeatTimer`: each session is a node on the timer's
/// wheel whose deadline is its next beat, and every slot's beats leave as one batch per socket.
///
/// A process that runs many agents (a load generator, a relay) then pays one timer wake-up and
/// one `sendmmsg` per slot, sent from the timer's thread, not a task switch, a system timer and
/// a hop to the socket's event loop per beat. A beat goes at most one slot (1 ms) after it is due; dues advance by whole periods, so
/// that lateness does not add up.
protocol DatagramBeatScheduling: Sendable {
    /// Starts beating `session`: the first beat one `period` from now, then once per the period
    /// the latest answer gave.
    ///
    /// - Throws: ``AgentError/invalidConfiguration(_:)`` when the wheel holds no more sessions,
    ///   ``AgentError/sessionClosed`` once the scheduler is closed.
    func start(_ session: DatagramBeating, after period: Duration) throws(AgentError)

    /// Stops beating `session`; no beat of it is numbered after this returns.
    func stop(_ session: DatagramBeating)

    /// Stops the timer's thread and ends every session still started with
    /// ``AgentError/sessionClosed``; later starts are refused.
    func close()
}

/// One datagram session's steady beats, as ``DatagramBeatScheduling`` sends them.
final class DatagramBeating: Sendable {
    let inbox: HeartbeatDatagramSocket.Inbox
    let socket: HeartbeatDatagramSocket
    let destination: SocketAddress
    /// How long beats may go unanswered: two in a row, unanswered this long, end the session.
    let timeout: Duration
    /// Set by ``DatagramBeatScheduling/stop(_:)``; the scheduler reads it under its lock.
    let stopped = Atomic<Bool>(false)
    private let ended = PosixMutex<AgentError?>(nil)
    private let endSignal = Wakeup()

    init(
        inbox: HeartbeatDatagramSocket.Inbox, socket: HeartbeatDatagramSocket, destination: SocketAddress,
        timeout: Duration
    ) {
        self.inbox = inbox
        self.socket = socket
        self.destination = destination
        self.timeout = timeout
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
        /// The sessions filed on the wheel, by their handle's index.
        var entries: [Entry?] = []
        var closed = false
    }

    private struct Entry {
        let session: DatagramBeating
        /// The handle it is filed under: a record's index is reused once it expires.
        let handle: HeartbeatHandle
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
            guard !filed.closed else { throw .sessionClosed }
            try file(session, due: now.advanced(by: period), period: period, at: now, in: &filed)
        }
    }

    func stop(_ session: DatagramBeating) {
        session.stopped.store(true, ordering: .relaxed)
        // A pass that read the flag before it was set ends before this returns; the next finds
        // it set (the lock orders both) and drops the session when its beat comes due.
        filed.withLock { _ in }
    }

    func close() {
        let stranded = filed.withLock { filed in
            filed.closed = true
            defer { filed.entries = [] }
            return filed.entries.compactMap { $0?.session }
        }
        timer.stop()
        // Without beats their manager will mark the nodes down: say so rather than wait forever.
        for session in stranded { session.end(.sessionClosed) }
    }

    /// Files `session` under `due`, or, past the wheel's horizon, the horizon.
    private func file(
        _ session: DatagramBeating, due: BeaconInstant, period: Duration, at now: BeaconInstant,
        in filed: inout Filed
    ) throws(AgentError) {
        let wait = max(now.duration(to: due), .microseconds(1))
        let handle: HeartbeatHandle
        do {
            handle = try timer.wheel.register(ttl: HeartbeatTTL(min(wait, Self.horizon)))
        } catch {
            throw .invalidConfiguration("cannot schedule another heartbeat datagram session: \(error)")
        }
        let index = Int(handle.index)
        if index >= filed.entries.count {
            filed.entries.append(contentsOf: repeatElement(nil, count: index + 1 - filed.entries.count))
        }
        filed.entries[index] = Entry(session: session, handle: handle, due: due, period: period)
    }

    /// On the timer's thread: numbers the beats of the sessions due, files them again, and sends
    /// them, one batch per socket. Sessions whose manager fell silent end instead.
    private func beat(_ handles: [HeartbeatHandle]) {
        let now = timer.wheel.clock.now
        // One batch per socket: one or two (IPv4, IPv6), so a list searched in place.
        var batches: [(socket: HeartbeatDatagramSocket, beats: [HeartbeatDatagramSocket.Beat])] = []
        var endings: [(DatagramBeating, AgentError)] = []
        filed.withLock { filed in
            for handle in handles {
                let index = Int(handle.index)
                guard index < filed.entries.count, let entry = filed.entries[index], entry.handle == handle else {
                    continue
                }
                filed.entries[index] = nil
                let session = entry.session
                guard !session.stopped.load(ordering: .relaxed) else { continue }
                var next = (due: entry.due, period: entry.period)
                if now >= entry.due {
                    let (due, period) = session.inbox.scheduledBeat(at: now, timeout: session.timeout)
                    guard case .send(let sequence) = due else {
                        endings.append((session, DatagramBeating.silent(after: session.timeout)))
                        continue
                    }
                    let beat = HeartbeatDatagramSocket.Beat(
                        session: session.inbox.session, sequence: sequence, destination: session.destination)
                    if let batch = batches.firstIndex(where: { $0.socket === session.socket }) {
                        batches[batch].beats.append(beat)
                    } else {
                        batches.append((session.socket, [beat]))
                    }
                    if let period { next.period = period }
                    next.due = next.due.advanced(by: next.period)
                    if next.due <= now { next.due = now.advanced(by: next.period) }
                }
                do throws(AgentError) {
                    try file(session, due: next.due, period: next.period, at: now, in: &filed)
                } catch {
                    endings.append((session, error))
                }
            }
        }
        for (session, reason) in endings { session.end(reason) }
        for batch in batches { batch.socket.send(batch.beats) }
    }
}
#endif
