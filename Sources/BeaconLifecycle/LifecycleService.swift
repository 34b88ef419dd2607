public import BeaconCore
public import ServiceLifecycle

/// Any `LongRunningService` as a swift-service-lifecycle `Service`: it runs the service while
/// the group runs, and a graceful shutdown (SIGTERM, or another service ending) cancels it, so
/// the service cleans up the way it does on cancellation before `run` returns — a dispatcher
/// commits its queued writes, a leader-elected one leaves its group, a runtime stops.
///
/// ```swift
/// let group = ServiceGroup(
///     services: [LifecycleService(dispatcher), LifecycleService(serverManager)],
///     gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
///
/// It adds no clock of its own, so a group in a test runs its services on a `ManualClock`.
public struct LifecycleService<Base: LongRunningService>: Service {
    /// The service it runs.
    public let base: Base

    /// A `Service` that runs `base` until the group shuts down.
    public init(_ base: Base) {
        self.base = base
    }

    /// Runs the base service; a graceful shutdown cancels it, and this returns once it has
    /// cleaned up. Throws what the base service throws.
    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await base.run()
        }
    }
}
