/// The one lifecycle shape of Beacon's long-running services: ``run()`` does the work until the
/// task running it is cancelled, then cleans up and returns.
///
/// The dispatcher, the server manager, the leader-elected dispatcher, the master and worker
/// runtimes, the node agent and the gRPC server all conform, so one adapter (`LifecycleService`
/// in `BeaconLifecycle`) runs any of them in a swift-service-lifecycle `ServiceGroup`, and a
/// plain task runs them the same way:
///
/// ```swift
/// let running = Task { try await service.run() }
/// // …
/// running.cancel()          // the service cleans up…
/// try await running.value   // …and has when this returns
/// ```
///
/// Cancellation is the only stop signal the shape needs; a type may offer a `stop()` as well
/// for callers that hold the service rather than its task.
public protocol LongRunningService: Sendable {
    /// Runs until the task is cancelled (or the service ends on its own), then cleans up and
    /// returns. Throws when the service cannot start or fails while running, not because it was
    /// cancelled.
    func run() async throws
}
