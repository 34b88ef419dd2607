#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The monotonic time source a heartbeat wheel runs against.
///
/// Production code uses ``MonotonicClock``; tests use ``ManualClock`` to drive millions of nodes
/// through virtual time with no sleeping.
public protocol HeartbeatClock: Sendable {
    /// The current time. Must never go backwards.
    func now() -> HeartbeatInstant
}

/// The operating system's monotonic clock (`CLOCK_MONOTONIC`), which does not jump with wall-clock
/// changes. It keeps counting while the process is paused, which is what the wheel's stall guard
/// relies on to notice a pause.
public struct MonotonicClock: HeartbeatClock {
    public init() {}

    public func now() -> HeartbeatInstant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return HeartbeatInstant(nanoseconds: UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec))
    }
}

/// A clock that moves only when told to: the virtual time of deterministic tests.
///
/// Safe to read from any thread while one thread moves it.
public final class ManualClock: HeartbeatClock {
    private let nanoseconds: Atomic<UInt64>

    /// A clock reading `start`.
    public init(start: HeartbeatInstant = .zero) {
        nanoseconds = Atomic(start.nanoseconds)
    }

    public func now() -> HeartbeatInstant {
        HeartbeatInstant(nanoseconds: nanoseconds.load(ordering: .acquiring))
    }

    /// Moves the clock later by `duration`. A negative duration is refused: monotonic clocks do not
    /// go backwards.
    public func advance(by duration: Duration) throws(HeartbeatError) {
        guard duration >= .zero else { throw .clockWentBackwards(by: .zero - duration) }
        set(to: now().advanced(by: duration))
    }

    /// Moves the clock to `instant`, which must not be earlier than the current reading.
    public func advance(to instant: HeartbeatInstant) throws(HeartbeatError) {
        let current = now()
        guard instant >= current else { throw .clockWentBackwards(by: current.duration(since: instant)) }
        set(to: instant)
    }

    private func set(to instant: HeartbeatInstant) {
        nanoseconds.store(instant.nanoseconds, ordering: .releasing)
    }
}
