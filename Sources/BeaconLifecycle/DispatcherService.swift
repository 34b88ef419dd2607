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
public struct DispatcherService: Service {
    public let dispatcher: Dispatcher

    public init(_ dispatcher: Dispatcher) {
        self.dispatcher = dispatcher
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await dispatcher.run()
        } onGracefulShutdown: {
            dispatcher.stop()
        }
    }
}
