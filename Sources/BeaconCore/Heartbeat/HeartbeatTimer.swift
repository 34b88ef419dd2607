import BeaconPrimitives
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A ``HeartbeatWheel`` on the system's monotonic clock, advanced by a thread of its own.
///
/// The thread sleeps until the wheel's next occupied slot ends or a registration due sooner
/// wakes it; with nothing due it does not wake at all. While beats arrive it also wakes once per
/// slot to keep the wheel's cached beat clock current (see
/// ``HeartbeatWheel/publishBeatClock(validUntil:)``), and stops doing so after the first slot
/// without beats.
///
/// ```swift
/// let timer = try HeartbeatTimer(configuration: .init(slotWidth: .milliseconds(1), maximumTTL: .seconds(30)))
/// try timer.start { expiry in
///     for handle in expiry.handles { print("\(handle) is down") }
/// }
/// let ttl = try HeartbeatTTL(.seconds(15))
/// let node = try timer.wheel.register(ttl: ttl)
/// try timer.wheel.beat(node, ttl: ttl)   // from any thread, on every heartbeat
/// timer.stop()
/// ```
public final class HeartbeatTimer: Sendable {
    /// The wheel: register, beat and remove on it from any thread. Do not call `advance` on it;
    /// the timer's thread owns that.
    public let wheel: HeartbeatWheel<MonotonicClock>
    private let loop: TimerLoop
    private let thread = PosixMutex<pthread_t?>(nil)

    /// A stopped timer with a new wheel.
    public init(configuration: HeartbeatWheelConfiguration = .init()) throws(HeartbeatError) {
        wheel = try HeartbeatWheel(configuration: configuration, clock: MonotonicClock())
        loop = TimerLoop(wheel: wheel)
    }

    deinit {
        stop()
    }

    /// Starts the thread. `onExpiry` runs on it, once per slot with expiries; keep it short or
    /// hand the batch to other work, since the next slot waits for it.
    ///
    /// - Throws: ``HeartbeatError/timerStartFailed(_:)`` if the timer is running or the thread
    ///   could not be created.
    public func start(onExpiry: @escaping @Sendable (HeartbeatExpiry) -> Void) throws(HeartbeatError) {
        try thread.withLock { thread throws(HeartbeatError) in
            guard thread == nil else { throw .timerStartFailed("the timer is already running") }
            loop.prepare(onExpiry: onExpiry)
            let context = Unmanaged.passRetained(loop).toOpaque()
            var created = pthread_t()
            let result = pthread_create(&created, nil, timerThreadEntry, context)
            guard result == 0 else {
                Unmanaged<TimerLoop>.fromOpaque(context).release()
                throw .timerStartFailed("pthread_create returned \(result)")
            }
            thread = created
        }
    }

    /// Stops the thread and waits for it to finish; a no-op if it is not running. Expiries that
    /// are not yet due are not delivered. The timer can be started again.
    public func stop() {
        thread.withLock { thread in
            guard let running = thread else { return }
            loop.requestStop()
            pthread_join(running, nil)
            thread = nil
        }
    }

    /// How many times the thread has woken up since it was created.
    public var wakeUps: Int { loop.wakeUps.load(ordering: .relaxed) }
}

#if canImport(Darwin)
private func timerThreadEntry(_ context: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
    Unmanaged<TimerLoop>.fromOpaque(context).takeRetainedValue().run()
    return nil
}
#else
private func timerThreadEntry(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let context else { return nil }
    Unmanaged<TimerLoop>.fromOpaque(context).takeRetainedValue().run()
    return nil
}
#endif

/// The timer thread's state, separate from ``HeartbeatTimer`` so that the running thread does
/// not keep the timer alive (the timer's `deinit` stops the thread).
private final class TimerLoop: @unchecked Sendable {
    // Safety: `onExpiry` is written by `prepare` before the thread is created (pthread_create
    // orders it) and read only by that thread; everything else is atomic or immutable.
    let wheel: HeartbeatWheel<MonotonicClock>
    let stopping = Atomic<Bool>(false)
    let wakeUps = Atomic<Int>(0)
    private var onExpiry: (@Sendable (HeartbeatExpiry) -> Void)?

    init(wheel: HeartbeatWheel<MonotonicClock>) {
        self.wheel = wheel
    }

    func prepare(onExpiry: @escaping @Sendable (HeartbeatExpiry) -> Void) {
        self.onExpiry = onExpiry
        stopping.store(false, ordering: .relaxed)
    }

    func requestStop() {
        stopping.store(true, ordering: .releasing)
        wheel.wakeSignal.signal()
    }

    func run() {
        guard let onExpiry else { return }
        let refresh = wheel.configuration.slotWidth
        while !stopping.load(ordering: .acquiring) {
            wakeUps.add(1, ordering: .relaxed)
            let now = wheel.clock.now
            let next: BeaconInstant?
            do {
                next = try wheel.advance(to: now, deliver: onExpiry)
            } catch {
                // Someone else advanced the wheel (a misuse the wheel refused); try again a slot later.
                next = now.advanced(by: refresh)
            }
            let refreshAt = now.advanced(by: refresh)
            let wake: BeaconInstant?
            if let next, next <= refreshAt {
                wheel.publishBeatClock(validUntil: next)
                wake = next
            } else if wheel.takeBeatClockUsage() {
                wheel.publishBeatClock(validUntil: refreshAt)
                wake = refreshAt
            } else {
                wheel.withdrawBeatClock()
                wake = next
            }
            if wheel.prepareToSleep(until: wake) {
                wheel.wakeSignal.wait(untilMonotonicNanoseconds: wake?.nanoseconds)
            }
        }
        wheel.withdrawBeatClock()
    }
}
