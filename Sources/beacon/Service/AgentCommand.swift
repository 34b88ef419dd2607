import ArgumentParser
import BeaconAgent

#if GRPC
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

            Options are checked the same way in every build; a build without the GRPC trait then \
            says that it cannot run the command, so a command line it accepts runs as typed once \
            rebuilt.
            """)

    @Option(
        name: .customLong("manager"),
        help:
            "A dispatcher's host:port, [IPv6]:port or name:port, port 1...65535; repeat for several, at most \(Self.maximumManagers) (default: none; give at least one)."
    )
    var managers: [String] = []
    @Option(help: "This node's id, 1 to 256 visible ASCII characters (over mutual TLS, its certificate's CN).")
    var node: String
    @Option(
        help: Self.durations.help("How long to run (30s, 5m)", absent: "until interrupted"),
        transform: Self.durations.parse)
    var duration: DurationArgument?
    @Option(help: "PEM CA of the dispatchers' certificates: connect over TLS (default: plain text).")
    var tlsCA: String?
    @Option(help: "PEM client certificate for mutual TLS, with --tls-key and --tls-ca (default: none).")
    var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert (default: none).")
    var tlsKey: String?
    @Flag(
        help:
            "Send heartbeats as UDP datagrams to the manager's host and port number (it must run `beacon serve --heartbeat-datagrams`) instead of on a gRPC stream."
    )
    var datagramHeartbeats = false
    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical (to standard error).")
    var logLevel = LogLevelOption.info

    static let maximumManagers = 64
    static let durations = OptionValue.duration(in: .milliseconds(1)...(.seconds(1_000_000)))

    func validate() throws {
        guard (1...Self.maximumManagers).contains(managers.count) else {
            throw ValidationError(
                "--manager: give 1 to \(Self.maximumManagers) dispatcher addresses (host:port), not \(managers.count)")
        }
        try checkManagerAddresses(managers)
        try OptionCheck.identifier(node, "--node", atMost: 256)
        guard (tlsCert == nil) == (tlsKey == nil), tlsCert == nil || tlsCA != nil else {
            throw ValidationError("--tls-cert and --tls-key go together, and need --tls-ca")
        }
        if let tlsCA { try OptionPath.checkReadable(tlsCA, option: "--tls-ca", kind: "a readable PEM file") }
        if let tlsCert { try OptionPath.checkReadable(tlsCert, option: "--tls-cert", kind: "a readable PEM file") }
        if let tlsKey { try OptionPath.checkReadable(tlsKey, option: "--tls-key", kind: "a readable PEM file") }
    }

    #if GRPC
    func run() async throws {
        logLevel.bootstrap()
        let tls = try tlsCA.map { ca in
            try AgentTLS(certificateAuthorityFile: ca, certificateChainFile: tlsCert, privateKeyFile: tlsKey)
        }
        let connections = try ManagerConnections(tls: tls)
        let agent = try NodeAgent(
            configuration: AgentConfiguration(
                node: NodeID(node), description: NodeDescription(hostname: node), managers: managers,
                heartbeatTransport: datagramHeartbeats ? .datagrams : .stream),
            connections: connections)
        let running = Task { try await agent.run() }
        let printing = Task {
            var reported = Set<String>()
            for await event in agent.events {
                print(event)
                if case .assignmentsApplied = event {
                    for task in agent.tasks where reported.insert(task.id).inserted {
                        try? agent.report(
                            TaskStatusUpdate(
                                taskID: task.id, status: TaskStatus(state: .running, message: "started by beacon agent")
                            ))
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
