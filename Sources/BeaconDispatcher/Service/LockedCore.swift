import BeaconCore
import BeaconPrimitives

/// The dispatcher's state machine behind one lock: every call into it from the shell's threads
/// (callers, the loop, the wheel's timer thread, store watchers) goes through ``withLock(_:)``,
/// which makes the calls the core deferred (see ``DispatcherCore/takeDeferredCalls()``) once the
/// lock is released.
final class LockedCore<Clock: BeaconClock>: @unchecked Sendable {
    // Safety of `@unchecked Sendable`: `core` is only touched inside `lock`.
    private let lock = PosixMutex(())
    private let core: DispatcherCore<Clock>

    init(_ core: DispatcherCore<Clock>) {
        self.core = core
    }

    func withLock<Value: Sendable, Failure: Error>(
        _ body: (DispatcherCore<Clock>) throws(Failure) -> Value
    ) throws(Failure) -> Value {
        var deferred = DeferredCalls()
        // Runs after `lock.withLock` has returned, whether `body` threw or not.
        defer { deferred.perform() }
        return try lock.withLock { _ throws(Failure) -> Value in
            defer { deferred = core.takeDeferredCalls() }
            return try body(core)
        }
    }
}
