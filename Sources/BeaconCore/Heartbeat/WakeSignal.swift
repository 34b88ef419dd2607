#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-permit wake-up for the thread that owns a wheel: `wait` sleeps until a monotonic-clock
/// instant or until `signal`, whichever comes first. A signal sent while nobody waits is kept, so a
/// wake-up between "decided to sleep" and "sleeping" is never lost.
final class WakeSignal: @unchecked Sendable {
    // Safety: the pthread objects live at stable heap addresses and are only used through the
    // pthread API, which does its own synchronisation; `permit` is read and written under `mutex`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var permit = false
    /// Set while the owner is parked on a ``ManualClock``: takes it off the clock's sleepers, so the
    /// signal that wakes it stops it counting as parked at once, before the thread even runs.
    private var unpark: (@Sendable () -> Void)?

    init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        #if os(Linux)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
        #else
        pthread_cond_init(condition, nil)
        #endif
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Wakes the waiter, or the next one to wait.
    func signal() {
        pthread_mutex_lock(mutex)
        permit = true
        let parkedOn = unpark
        unpark = nil
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
        parkedOn?()
    }

    /// Before the owner parks on a manual clock: consumes a permit already sent (the owner must
    /// not park, and returns false), or records how the next signal takes it off the clock.
    func arm(unpark: @escaping @Sendable () -> Void) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if permit {
            permit = false
            return false
        }
        self.unpark = unpark
        return true
    }

    /// Sleeps until `deadline` (nanoseconds on `CLOCK_MONOTONIC`; nil means no deadline) or a
    /// signal. Returns true if it was signalled.
    @discardableResult
    func wait(untilMonotonicNanoseconds deadline: UInt64?) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !permit {
            guard let deadline else {
                pthread_cond_wait(condition, mutex)
                continue
            }
            #if os(Linux)
            var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            if pthread_cond_timedwait(condition, mutex, &time) == ETIMEDOUT { break }
            #else
            let now = MonotonicClock().now.nanoseconds
            guard deadline > now else { break }
            var relative = timespec(
                tv_sec: Int((deadline - now) / 1_000_000_000), tv_nsec: Int((deadline - now) % 1_000_000_000))
            if pthread_cond_timedwait_relative_np(condition, mutex, &relative) == ETIMEDOUT { break }
            #endif
        }
        let signalled = permit
        permit = false
        return signalled
    }
}
