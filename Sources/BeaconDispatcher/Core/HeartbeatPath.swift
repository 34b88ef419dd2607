package import BeaconCore
import BeaconPrimitives
import Synchronization

/// The heartbeat hot path, shared by every thread without a lock: check the session against the
/// node's slot, draw the next period, push the node's deadline in the wheel.
///
/// No string is hashed, nothing is allocated and the session slot is only read: the session id
/// carries the wheel handle, the node id carries its fingerprint, and the period is
/// `JitteredPeriodPolicy/next(random:)` on a word mixed from the session's secret and the wheel's
/// cached time.
package final class HeartbeatPath<Clock: BeaconClock>: Sendable {
    package let wheel: HeartbeatWheel<Clock>
    let sessions: SessionTable
    let settings: DispatcherConfiguration.Resolved
    private let adaptive: AdaptiveDeadlines?
    /// Heartbeats accepted, striped so cores do not contend for one counter.
    let beats = StripedCounter()

    init(wheel: HeartbeatWheel<Clock>, configuration: DispatcherConfiguration) throws(DispatcherError) {
        self.wheel = wheel
        settings = try configuration.resolved()
        sessions = try SessionTable(capacity: configuration.recordCapacity)
        adaptive = configuration.adaptiveTTL.map { AdaptiveDeadlines(configuration: $0) }
    }

    /// Bytes of the two arenas the hot path reads that have been touched: the wheel's records and
    /// the session slots. They live in anonymous mappings, not on the heap.
    package var touchedArenaBytes: Int {
        sessions.touchedBytes / SessionTable.bytesPerNode * HeartbeatWheel<Clock>.bytesPerNode + sessions.touchedBytes
    }

    /// Beats the node if `session` is its current session; returns the period to send back, or
    /// nil when the session does not check out (the caller works out which error under the core's
    /// lock).
    @inline(__always)
    func beat(node: NodeID, session: SessionID) -> Duration? {
        guard sessions.validates(session, fingerprint: node.fingerprint) else { return nil }
        return beat(validated: session)
    }

    /// Beats the node whose current session `handle` names, if `authenticate` accepts that
    /// session's secret (a heartbeat datagram's tag is made with it); returns the period, or nil
    /// when the slot holds no session, `authenticate` refuses, or the handle is stale.
    @inline(__always)
    func beat(handle: HeartbeatHandle, authenticatedBy authenticate: (_ secret: UInt64) -> Bool) -> Duration? {
        let secret = sessions.currentSecret(handle.index)
        guard secret != 0, authenticate(secret) else { return nil }
        return beat(validated: SessionID(handle: handle, secret: secret))
    }

    @inline(__always)
    private func beat(validated session: SessionID) -> Duration? {
        let index = session.handle.index
        let now = wheel.beatClockMicroseconds
        let next = settings.heartbeat.next(random: SessionTable.jitterRandom(secret: session.secret, micros: now))
        var ttl = next.ttl
        if let adaptive {
            ttl = max(ttl, adaptive.observe(index, at: wheel.clock.now))
        }
        do {
            try wheel.beat(session.handle, ttl: ttl, atMicros: now)
        } catch {
            return nil
        }
        beats.increment(index)
        return next.period
    }

    /// Beats every heartbeat of `batch` as ``beat(node:session:)`` beats each, telling `answer`
    /// each position with its period, or nil when the session did not check out.
    ///
    /// A beat at a million nodes waits on two random cache lines (its session slot and its wheel
    /// record), and a loop of single beats keeps few of those misses in flight, because each beat
    /// is more instructions than the processor looks ahead. The batch asks for both lines 16
    /// beats ahead, as ``HeartbeatWheel/beat(_:ttl:refused:)`` does for its records. Below
    /// `minimumRecords` records in use (by default the wheel's threshold: 65 536 records, 1 MiB
    /// of records and 1 MiB of 16-byte session slots) it prefetches nothing, since the arenas stay
    /// in cache.
    @inline(__always)
    package func beat(
        batch: UnsafeBufferPointer<NodeHeartbeat>,
        prefetchingFrom minimumRecords: UInt32 = HeartbeatWheel<Clock>.batchPrefetchMinimumRecords,
        answer: (Int, Duration?) -> Void
    ) {
        let count = batch.count
        let distance = HeartbeatWheel<Clock>.batchPrefetchDistance
        let prefetching = wheel.recordsInUse >= minimumRecords
        if prefetching {
            for position in 0..<min(distance, count) { prefetch(batch[position].session.handle) }
        }
        for position in 0..<count {
            if prefetching, position + distance < count { prefetch(batch[position + distance].session.handle) }
            answer(position, beat(node: batch[position].nodeID, session: batch[position].session))
        }
    }

    @inline(__always)
    private func prefetch(_ handle: HeartbeatHandle) {
        sessions.prefetch(handle.index)
        wheel.prefetchRecord(of: handle)
    }

    /// Forgets a slot's arrival history (a new registration starts afresh).
    func resetAdaptive(_ index: UInt32) {
        adaptive?.reset(index)
    }
}

/// Per-node phi-accrual estimators for ``DispatcherConfiguration/adaptiveTTL``, behind striped
/// locks: only a node's own heartbeats touch its estimator, so stripes are nearly never contended.
final class AdaptiveDeadlines: Sendable {
    private static let stripeCount = 64
    private let configuration: AdaptiveTTLEstimator.Configuration
    private final class Stripe: Sendable {
        let estimators = PosixMutex<[UInt32: AdaptiveTTLEstimator]>([:])
    }
    private let stripes: [Stripe]

    init(configuration: AdaptiveTTLEstimator.Configuration) {
        self.configuration = configuration
        stripes = (0..<Self.stripeCount).map { _ in Stripe() }
    }

    func observe(_ index: UInt32, at instant: BeaconInstant) -> HeartbeatTTL {
        stripes[Int(index) % Self.stripeCount].estimators.withLock { estimators in
            if estimators[index] == nil {
                // The configuration was validated when the dispatcher was made.
                estimators[index] = try? AdaptiveTTLEstimator(configuration: configuration)
            }
            return estimators[index]?.observe(arrivalAt: instant) ?? configuration.initialTTL
        }
    }

    func reset(_ index: UInt32) {
        _ = stripes[Int(index) % Self.stripeCount].estimators.withLock { $0.removeValue(forKey: index) }
    }
}

/// A counter many threads bump, split over cache lines by a caller-chosen stripe.
final class StripedCounter: @unchecked Sendable {
    // Safety: the words are atomics, allocated once and freed in deinit.
    private static let stripeCount = 16
    /// 16 words per stripe: each stripe on its own 128-byte line.
    private let words: UnsafeMutablePointer<Atomic<Int>>

    init() {
        words = .allocate(capacity: Self.stripeCount * 16)
        for index in 0..<Self.stripeCount * 16 { (words + index).initialize(to: Atomic(0)) }
    }

    deinit {
        words.deinitialize(count: Self.stripeCount * 16)
        words.deallocate()
    }

    @inline(__always)
    func increment(_ stripe: UInt32) {
        words[Int(stripe % UInt32(Self.stripeCount)) * 16].wrappingAdd(1, ordering: .relaxed)
    }

    var total: Int {
        (0..<Self.stripeCount).reduce(0) { $0 &+ words[$1 * 16].load(ordering: .relaxed) }
    }
}
