public import BeaconClient
public import ServiceLifecycle

/// A ``ServerManager`` as a swift-service-lifecycle `Service`: it rebalances on Consul's schedule
/// while the service group runs and stops at a graceful shutdown.
///
/// ```swift
/// let group = ServiceGroup(services: [ServerManagerService(manager)], logger: logger)
/// try await group.run()
/// ```
public struct ServerManagerService: Service {
    public let manager: ServerManager

    public init(_ manager: ServerManager) {
        self.manager = manager
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await manager.run()
        }
    }
}
