import ArgumentParser
#if GRPC
import BeaconAgent
import BeaconCore
import BeaconDispatcher
#endif

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run one node agent against dispatchers (needs a build with `--traits GRPC`).",
        discussion: """
            The agent registers, heartbeats, follows its assignments, reports each assigned task \
            RUNNING, and prints what happens. With several --manager addresses it fails over between \
            them. It stops after --duration, or on SIGINT.
            """)

    @Option(name: .customLong("manager"), help: "A dispatcher's host:port (repeat for several).")
    var managers: [String] = []
    @Option(help: "This node's id (over mutual TLS, its certificate's CN).")
    var node: String
    @Option(help: "How long to run (30s, 5m); without it, until interrupted.")
    var duration: DurationArgument?
    @Option(help: "PEM CA of the dispatchers' certificates: connect over TLS.")
    var tlsCA: String?
    @Option(help: "PEM client certificate for mutual TLS.")
    var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    func validate() throws {
        guard !managers.isEmpty else { throw ValidationError("give at least one --manager host:port") }
        guard (tlsCert == nil) == (tlsKey == nil), tlsCert == nil || tlsCA != nil else {
            throw ValidationError("--tls-cert and --tls-key go together, and need --tls-ca")
        }
    }

    #if GRPC
    func run() async throws {
        let tls = try tlsCA.map { ca in
            try AgentTLS(certificateAuthorityFile: ca, certificateChainFile: tlsCert, privateKeyFile: tlsKey)
        }
        let connections = try ManagerConnections(tls: tls)
        let agent = try NodeAgent(
            configuration: AgentConfiguration(node: NodeID(node), description: NodeDescription(hostname: node), managers: managers),
            connections: connections)
        let running = Task { try await agent.run() }
        let printing = Task {
            var reported = Set<String>()
            for await event in agent.events {
                print(event)
                if case .assignmentsApplied = event {
                    for task in agent.tasks where reported.insert(task.id).inserted {
                        try? agent.report(TaskStatusUpdate(taskID: task.id, status: TaskStatus(state: .running, message: "started by beacon agent")))
                    }
                }
            }
        }
        if let duration {
            try? await MonotonicClock().sleep(for: duration.value)
            running.cancel()
        }
        try await running.value
        await printing.value
        await connections.close()
    }
    #else
    func run() async throws {
        throw grpcRequired("agent")
    }
    #endif
}
