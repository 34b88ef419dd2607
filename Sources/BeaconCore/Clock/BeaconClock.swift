#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one clock every part of Beacon runs on: the heartbeat wheel, the dispatcher, the
/// scheduler's store and leases, the server list, the master/worker runtimes, the call placer and
/// every back-off.
///
/// It is a Swift `Clock` whose instant is ``BeaconInstant``, an eight-byte nanosecond count, so a
/// deadline fits in one atomic word (the wheel's lock-free beats store it that way) and a shell can
/// sleep on it with `clock.sleep(until:)` or `Task.sleep(until:clock:)`. Production code uses
/// ``MonotonicClock``; tests and simulations use ``ManualClock``, whose
/// ``ManualClock/advance(by:)`` wakes every sleeper that is due, so nothing in a test waits for
/// real time to pass.
public protocol BeaconClock: Clock, Sendable where Instant == BeaconInstant {}

extension BeaconClock {
    /// Every Beacon clock counts whole nanoseconds.
    public var minimumResolution: Duration { .nanoseconds(1) }
}

/// The operating system's monotonic clock (`CLOCK_MONOTONIC`), which does not jump with wall-clock
/// changes. It keeps counting while the process is paused, which is what the wheel's stall guard
/// relies on to notice a pause.
public struct MonotonicClock: BeaconClock {
    public init() {}

    /// The current reading, from `clock_gettime` (10–30 ns here; the wheel's beats avoid it with a
    /// cached reading, see ``HeartbeatWheel/publishBeatClock(validUntil:)``).
    public var now: BeaconInstant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return BeaconInstant(nanoseconds: UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec))
    }

    /// Suspends until this clock reads `deadline` or later; never returns early, even though the
    /// underlying sleep runs on another of the system's clocks. Throws `CancellationError` when the
    /// task is cancelled.
    public func sleep(until deadline: BeaconInstant, tolerance: Duration? = nil) async throws {
        while true {
            let remaining = now.duration(to: deadline)
            guard remaining > .zero else { return }
            try await Task.sleep(for: remaining, tolerance: tolerance, clock: .continuous)
        }
    }
}
