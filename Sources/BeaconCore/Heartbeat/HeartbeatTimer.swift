import BeaconPrimitives
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A ``HeartbeatWheel`` advanced by a thread of its own, on the system's monotonic clock or, in
/// tests and simulations, on a ``ManualClock`` (the thread then sleeps in virtual time: it counts
/// as one of the clock's sleepers and wakes when an advance reaches its next slot).
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
public final class HeartbeatTimer<Clock: BeaconClock>: Sendable {
    /// The wheel: register, beat and remove on it from any thread. Do not call `advance` on it;
    /// the timer's thread owns that.
    public let wheel: HeartbeatWheel<Clock>
    private let loop: TimerLoop<Clock>
    private let thread = PosixMutex<pthread_t?>(nil)

    /// A stopped timer with a new wheel on `clock`.
    ///
    /// - Throws: ``HeartbeatError/invalidConfiguration(_:)`` for a bad configuration, or for a
    ///   clock other than ``MonotonicClock`` and ``ManualClock``: a thread can only block on
    ///   clocks it knows how to wait for.
    /// - Complexity: O(S) for the wheel's S slots, as
    ///   ``HeartbeatWheel/init(configuration:clock:)``.
    public init(configuration: HeartbeatWheelConfiguration = .init(), clock: Clock) throws(HeartbeatError) {
        guard let parking = clock as? any ThreadParkingClock else {
            throw .invalidConfiguration("a HeartbeatTimer runs on MonotonicClock or ManualClock, not \(Clock.self)")
        }
        wheel = try HeartbeatWheel(configuration: configuration, clock: clock)
        loop = TimerLoop(wheel: wheel, parking: parking)
    }

    deinit {
        stop()
    }

    /// Starts the thread. `onExpiry` runs on it, once per slot with expiries; keep it short or
    /// hand the batch to other work, since the next slot waits for it.
    ///
    /// - Throws: ``HeartbeatError/timerStartFailed(_:)`` if the timer is running or the thread
    ///   could not be created.
    /// - Complexity: O(1), plus creating one thread.
    public func start(onExpiry: @escaping @Sendable (HeartbeatExpiry) -> Void) throws(HeartbeatError) {
        try thread.withLock { thread throws(HeartbeatError) in
            guard thread == nil else { throw .timerStartFailed("the timer is already running") }
            // A thread stopped from its own `onExpiry` was detached, not joined: it still owns
            // the wheel until it ends its pass.
            guard loop.threadExited.load(ordering: .acquiring) else {
                throw .timerStartFailed("the timer's thread, stopped from its own onExpiry, is still ending its pass")
            }
            loop.prepare(onExpiry: onExpiry)
            let context = Unmanaged<AnyObject>.passRetained(loop).toOpaque()
            var created = pthread_t()
            let result = pthread_create(&created, nil, timerThreadEntry, context)
            guard result == 0 else {
                Unmanaged<AnyObject>.fromOpaque(context).release()
                throw .timerStartFailed("pthread_create returned \(result)")
            }
            thread = created
        }
    }

    /// Stops the thread and waits for it to finish; a no-op if it is not running. Expiries that
    /// are not yet due are not delivered. The timer can be started again.
    ///
    /// - Complexity: O(1), plus joining the thread, which first finishes the `onExpiry` call in
    ///   progress, if any.
    public func stop() {
        thread.withLock { thread in
            guard let running = thread else { return }
            loop.requestStop()
            if pthread_equal(running, pthread_self()) != 0 {
                // Called from `onExpiry` (its closure held the last reference to an owner whose
                // deinit stops the timer): the thread cannot wait for itself; it ends after this
                // pass, on its own.
                pthread_detach(running)
            } else {
                pthread_join(running, nil)
            }
            thread = nil
        }
    }

    /// How many times the thread has woken up since it was created.
    ///
    /// - Complexity: O(1): one relaxed load.
    public var wakeUps: Int { loop.wakeUps.load(ordering: .relaxed) }
}

extension HeartbeatTimer where Clock == MonotonicClock {
    /// A stopped timer with a new wheel on the system's monotonic clock.
    ///
    /// - Complexity: O(S) for the wheel's S slots, as
    ///   ``HeartbeatWheel/init(configuration:clock:)``.
    public convenience init(configuration: HeartbeatWheelConfiguration = .init()) throws(HeartbeatError) {
        try self.init(configuration: configuration, clock: MonotonicClock())
    }
}

/// The clocks a timer's thread can block on: the system's (a timed wait on `CLOCK_MONOTONIC`)
/// and the manual one (parked as a sleeper until an advance or a signal wakes it).
protocol ThreadParkingClock: Sendable {
    func park(until deadline: BeaconInstant?, on signal: WakeSignal)
}

extension MonotonicClock: ThreadParkingClock {
    func park(until deadline: BeaconInstant?, on signal: WakeSignal) {
        signal.wait(untilMonotonicNanoseconds: deadline?.nanoseconds)
    }
}

extension ManualClock: ThreadParkingClock {}

/// The thread's entry point: the context is a retained ``TimerLoopRunner``, so one non-generic
/// function serves timers on every clock.
private protocol TimerLoopRunner: AnyObject {
    func run()
}

#if canImport(Darwin)
private func timerThreadEntry(_ context: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
    (Unmanaged<AnyObject>.fromOpaque(context).takeRetainedValue() as? any TimerLoopRunner)?.run()
    return nil
}
#else
private func timerThreadEntry(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let context else { return nil }
    (Unmanaged<AnyObject>.fromOpaque(context).takeRetainedValue() as? any TimerLoopRunner)?.run()
    return nil
}
#endif

/// The timer thread's state, separate from ``HeartbeatTimer`` so that the running thread does
/// not keep the timer alive (the timer's `deinit` stops the thread).
private final class TimerLoop<Clock: BeaconClock>: TimerLoopRunner, @unchecked Sendable {
    // Safety: `onExpiry` is written by `prepare` before the thread is created (pthread_create
    // orders it) and read only by that thread; everything else is atomic or immutable.
    let wheel: HeartbeatWheel<Clock>
    let parking: any ThreadParkingClock
    let stopping = Atomic<Bool>(false)
    /// False from `prepare` until the thread's `run` returns; a start waits for it.
    let threadExited = Atomic<Bool>(true)
    let wakeUps = Atomic<Int>(0)
    private var onExpiry: (@Sendable (HeartbeatExpiry) -> Void)?

    /// Whether beats read a reading the thread publishes once a slot instead of the clock. Worth it
    /// on the system clock, whose reading costs several beats; a manual clock's reading is one
    /// atomic load, and a published one would be stale from the moment a test advances the clock
    /// until the thread's next pass.
    let cachesBeatClock: Bool

    init(wheel: HeartbeatWheel<Clock>, parking: any ThreadParkingClock) {
        self.wheel = wheel
        self.parking = parking
        cachesBeatClock = parking is MonotonicClock
    }

    func prepare(onExpiry: @escaping @Sendable (HeartbeatExpiry) -> Void) {
        self.onExpiry = onExpiry
        stopping.store(false, ordering: .relaxed)
        threadExited.store(false, ordering: .relaxed)
        // A start after a stop: the gap between the two threads would otherwise read as a stall
        // on the first pass, its grace reaching a maximum TTL past it.
        wheel.ownerWillChange()
    }

    func requestStop() {
        stopping.store(true, ordering: .releasing)
        wheel.wakeSignal.signal()
    }

    func run() {
        // Releasing: the next owner, started once this is seen, reads the wheel as this left it.
        defer { threadExited.store(true, ordering: .releasing) }
        guard let onExpiry else { return }
        let refresh = wheel.configuration.slotWidth
        while !stopping.load(ordering: .acquiring) {
            wakeUps.add(1, ordering: .relaxed)
            let now = wheel.clock.now
            // While a pass runs, beats read the clock themselves. A pass can outlast the slot
            // the published reading covers (`onExpiry` may block on a lock; filing a burst of
            // registrations is unbounded), and beats still counting from that reading would get
            // deadlines early by the overrun.
            if cachesBeatClock { wheel.withdrawBeatClock() }
            let next: BeaconInstant?
            do {
                next = try wheel.advance(to: now, deliver: onExpiry)
            } catch {
                // Someone else advanced the wheel (a misuse the wheel refused); try again a slot later.
                next = now.advanced(by: refresh)
            }
            // The reading published next covers a slot from the end of the pass, not its start.
            let passEnded = cachesBeatClock ? wheel.clock.now : now
            let refreshAt = passEnded.advanced(by: refresh)
            let wake: BeaconInstant?
            if !cachesBeatClock {
                wake = next
            } else if let next, next <= refreshAt {
                // A wake the pass has already outlived is no bound on the time: the reading stays
                // withdrawn, and the thread passes again at once.
                if next > passEnded { wheel.publishBeatClock(validUntil: next) }
                wake = next
            } else if wheel.takeBeatClockUsage() {
                wheel.publishBeatClock(validUntil: refreshAt)
                wake = refreshAt
            } else {
                wake = next
            }
            if wheel.prepareToSleep(until: wake) {
                parking.park(until: wake, on: wheel.wakeSignal)
            }
        }
        wheel.withdrawBeatClock()
    }
}
