#if GRPC
import BeaconAgent
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherAPI
import BeaconDispatcherService
import Testing

/// The getting-started examples of the gRPC layer's documentation catalogs
/// (Sources/BeaconDispatcherService/BeaconDispatcherService.docc/GettingStarted.md,
/// Sources/BeaconAgent/BeaconAgent.docc/GettingStarted.md and
/// Sources/BeaconDispatcherAPI/BeaconDispatcherAPI.docc/GettingStarted.md), verbatim inside the
/// test bodies: a manager and a node agent over loopback, and the wire conversions.
@Suite(.timeLimit(.minutes(1))) struct ServiceDocsExampleTests {
    @Test func gettingStartedExample() async throws {
        let store = InMemoryDispatcherStore()
        let node = try NodeID("node-1")
        store.createNode(node)
        store.putTask(
            DispatchedTask(id: "web.1", nodeID: node, status: TaskStatus(state: .assigned), spec: Array("nginx".utf8)))

        // The manager: a dispatcher, served over gRPC on a free loopback port.
        let dispatcher = try Dispatcher(store: store)
        let server = try DispatcherServer(
            dispatcher: dispatcher, configuration: try DispatcherServerConfiguration(host: "127.0.0.1", port: 0))
        let leading = Task { try await dispatcher.run() }
        let serving = Task { try await server.run() }
        let address = "127.0.0.1:\(try await server.listeningPort)"

        // The node: an agent that opens a session, beats, and follows its assignments.
        let connections = try ManagerConnections()
        let agent = try NodeAgent(
            configuration: try AgentConfiguration(node: node, managers: [address]), connections: connections)
        let running = Task { try await agent.run() }
        for await event in agent.events {
            print(event)  // sessionStarted, then assignmentsApplied(tasks: 1, …)
            if case .assignmentsApplied(tasks: 1, _, _) = event { break }
        }
        print(agent.tasks.map(\.id))  // ["web.1"]

        running.cancel()
        _ = await running.result
        await connections.close()
        dispatcher.stop()
        _ = await leading.result
        server.stop()
        _ = await serving.result

        #expect(agent.tasks.map(\.id) == ["web.1"])
        #expect(store.node(node)?.status.state == .ready)
    }

    @Test func wireConversionExample() throws {
        let update = TaskStatusUpdate(taskID: "web.1", status: TaskStatus(state: .running, message: "started"))
        let wire = Beacon_Dispatcher_V1_TaskStatusUpdate(update)  // the agent's side: model → message
        let received = try TaskStatusUpdate(wire)  // the dispatcher's side: checked, back to the model
        print(received == update)  // true

        #expect(received == update)
    }
}
#endif
