import BeaconPrimitives
import BeaconCore

/// The dispatcher's state machine behind one lock: every call into it from the shell's threads
/// (callers, the loop, the wheel's timer thread, store watchers) goes through ``withLock(_:)``.
final class LockedCore: @unchecked Sendable {
    // Safety of `@unchecked Sendable`: `core` is only touched inside `lock`.
    private let lock = PosixMutex(())
    private let core: DispatcherCore<MonotonicClock>

    init(_ core: DispatcherCore<MonotonicClock>) {
        self.core = core
    }

    func withLock<Result: Sendable, Failure: Error>(
        _ body: (DispatcherCore<MonotonicClock>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try lock.withLock { _ throws(Failure) -> Result in try body(core) }
    }
}
