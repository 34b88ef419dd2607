public import BeaconCore
public import BeaconDispatcher
public import ServiceLifecycle

/// A ``Dispatcher`` as a swift-service-lifecycle `Service`: it leads while the service group
/// runs, and a graceful shutdown (SIGTERM, or another service ending) stops it the way
/// ``Dispatcher/stop()`` does, committing the queued writes before `run` returns.
///
/// ```swift
/// let group = ServiceGroup(
///     services: [DispatcherService(dispatcher)], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
///
/// It runs the dispatcher on whatever clock the dispatcher was made with, so a group in a test
/// can lead on a ``ManualClock`` as well.
public struct DispatcherService<Clock: BeaconClock>: Service {
    /// The dispatcher the service runs.
    public let dispatcher: Dispatcher<Clock>

    /// A service that runs `dispatcher` until the group shuts down.
    public init(_ dispatcher: Dispatcher<Clock>) {
        self.dispatcher = dispatcher
    }

    /// Runs the dispatcher; a graceful shutdown stops it, and this returns once its queued
    /// writes are committed.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await dispatcher.run()
        } onGracefulShutdown: {
            dispatcher.stop()
        }
    }
}
