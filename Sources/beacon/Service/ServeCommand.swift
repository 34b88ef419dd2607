import ArgumentParser
import BeaconCommandLine
import BeaconScheduler

#if GRPC
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherService
import BeaconLifecycle
import BeaconMetricsEndpoint
import BeaconPrimitives
import BenchmarkSupport
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import ServiceLifecycle
#endif
#if GRPC && Etcd
import BeaconCoordinationEtcd
import BeaconDispatcherCoordination
#endif

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a dispatcher as a gRPC service (needs a build with `--traits GRPC`).",
        discussion: """
            Nodes are kept in memory and admitted on first contact: any node id may register, and \
            each gets --tasks-per-node tasks to receive as assignments. Every --report-every the \
            server prints its nodes, heartbeats per second, its CPU and the nodes it marked DOWN. \
            SIGINT or SIGTERM stops it gracefully: nodes are told to disconnect, calls in flight finish.

            With --metrics host:port it also serves Prometheus text format on GET /metrics \
            (heartbeats, nodes by state, DOWN markings, registrations, call latencies, store \
            writes, heartbeat datagrams by outcome); port 0 takes a free port, and the address is \
            printed once it listens.

            Options are checked the same way in every build; a build without the GRPC trait then \
            says that it cannot run the command, so a command line it accepts runs as typed once \
            rebuilt.
            """)

    @Option(help: "Address to listen on: IPv4:port or [IPv6]:port, port 0...65535 (0: a free one, printed).")
    var listen = "127.0.0.1:4242"
    @Option(
        help:
            "Serve Prometheus metrics on GET /metrics at this IPv4:port or [IPv6]:port (port 0...65535; 0: a free one, printed) (default: no metrics)."
    )
    var metrics: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical (to standard error).")
    var logLevel = LogLevelOption.info
    @OptionGroup var heartbeat: HeartbeatOptions
    @Option(
        help: Self.taskCounts.help(
            "Tasks assigned to each node when it is admitted", default: Self.defaultTasksPerNode),
        transform: Self.taskCounts.parse)
    var tasksPerNode = Self.defaultTasksPerNode
    @Option(
        help: Self.taskSizes.help("Bytes of each task's spec", default: Self.defaultTaskBytes),
        transform: Self.taskSizes.parse)
    var taskBytes = Self.defaultTaskBytes
    @Option(
        help:
            "Comma-separated etcd client URLs: join a dispatcher group there and lead only while chosen, keeping nodes, tasks and statuses in etcd under the group's path + `-records/` so the next leader finds them (needs `--traits GRPC,Etcd`) (default: none; lead alone, in memory)."
    )
    var etcd: String?
    @Option(
        help:
            "The dispatcher group's path on etcd: starts with / and does not end with one (default: /beacon/dispatchers).",
        transform: { try GroupPath($0).rawValue })
    var group = "/beacon/dispatchers"
    @Option(
        help:
            "This dispatcher's name in the group, 1 to 256 visible ASCII characters; unique among the managers (default: --advertise, else --listen)."
    )
    var name: String?
    @Flag(
        help:
            "With --etcd: every manager serves its own shard of the nodes instead of one leading. Managers keep a lease-bound entry under the group's path + `-managers/` and share a bounded-load table there; a node that reaches the wrong manager is sent to its owner (gRPC FailedPrecondition naming it), and each manager's writes are fenced on its entry."
    )
    var sharded = false
    @Option(
        help:
            "With --sharded: the host:port agents reach this manager at, which the others send its nodes to (default: --listen, which must then not be a wildcard address)."
    )
    var advertise: String?
    @Option(
        help: Self.reportIntervals.help("Time between reports", default: Self.defaultReportEvery),
        transform: Self.reportIntervals.parse)
    var reportEvery = Self.defaultReportEvery
    @Option(
        help:
            "Append 'node monotonic-nanoseconds' for every node marked DOWN to this file, in an existing folder (for `beacon loadgen --expiry-log`) (default: no log)."
    )
    var expiryLog: String?
    @Option(help: "PEM certificate chain: serve TLS (with --tls-key) (default: plain text).")
    var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert (default: none).")
    var tlsKey: String?
    @Option(
        help:
            "PEM CA that client certificates must chain to: serve mutual TLS (node id = certificate CN) (default: no client certificates)."
    )
    var clientCA: String?
    @Flag(
        help:
            "Serve dispatcher.proto with no dispatcher behind it: a new session id per session, a period drawn from --period ± --jitter for every heartbeat, one empty assignment set per stream, no node ever marked DOWN, every call through grpc-swift's handler path. The baseline that separates grpc-swift's cost per call from the dispatcher's (`beacon loadgen` against it and `serve --grpc-swift-heartbeats`; docs/benchmarks.md)."
    )
    var echo = false
    @Flag(
        help:
            "Answer Heartbeat and HeartbeatStream calls through grpc-swift's handler path, as every other call, instead of on the HTTP/2 stream's event loop (the default): the baseline that measures what the event-loop path saves (docs/benchmarks.md)."
    )
    var grpcSwiftHeartbeats = false
    @Flag(
        help:
            "Also answer heartbeats sent as UDP datagrams to the --listen host and port number (agents and `beacon loadgen --datagram-heartbeats`): many beats per system call, each proved by a tag keyed with its session's secret (docs/service.md). Sessions, assignments and status reports stay on gRPC."
    )
    var heartbeatDatagrams = false
    @Option(
        help: Self.batchingWaits.help(
            "With --heartbeat-datagrams: how long beats may gather after each read of the datagram socket before the next (0: read at once); up to this much more round-trip time for fewer wake-ups per beat",
            absent: "1ms"),
        transform: Self.batchingWaits.parse)
    var datagramBatching: DurationArgument?

    /// Bounds that keep a server's memory within a machine: every admitted node holds this
    /// many tasks, each with a spec of this many bytes, in the store and in its assignment set.
    static let taskCounts = OptionValue.integer(in: 0...1000)
    static let taskSizes = OptionValue.integer(in: 0...65536)
    static let reportIntervals = OptionValue.duration(in: .milliseconds(100)...(.seconds(3600)))
    static let batchingWaits = OptionValue.duration(in: .zero...(.milliseconds(100)), resolution: .microsecond)
    static let defaultTasksPerNode = 1
    static let defaultTaskBytes = 256
    static let defaultReportEvery = DurationArgument(.seconds(5))

    func validate() throws {
        _ = try ListenAddress(listen, option: "--listen")
        if let metrics { _ = try ListenAddress(metrics, option: "--metrics") }
        if let name {
            try OptionCheck.identifier(name, "--name", atMost: 256)
            // The scheduler's own rule for a member's name, so etcd never refuses it at run time.
            do {
                try validateHostname(name)
            } catch .invalidHostname(let reason) {
                throw ValidationError("--name: '\(name)' cannot name a member of a group: \(reason)")
            } catch {
                throw ValidationError("--name: \(error)")
            }
        }
        if let expiryLog { try OptionPath.checkFile(expiryLog, option: "--expiry-log") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        guard clientCA == nil || tlsCert != nil else {
            throw ValidationError("--client-ca needs --tls-cert and --tls-key")
        }
        if let tlsCert { try OptionPath.checkReadable(tlsCert, option: "--tls-cert", kind: "a readable PEM file") }
        if let tlsKey { try OptionPath.checkReadable(tlsKey, option: "--tls-key", kind: "a readable PEM file") }
        if let clientCA { try OptionPath.checkReadable(clientCA, option: "--client-ca", kind: "a readable PEM file") }
        if sharded, etcd == nil {
            throw ValidationError("--sharded needs --etcd: the managers share their table there")
        }
        if let advertise {
            guard sharded else { throw ValidationError("--advertise needs --sharded") }
            guard !(try ListenAddress(advertise, option: "--advertise")).isWildcard else {
                throw ValidationError(
                    "--advertise: \(advertise) is a wildcard address agents cannot be sent to; give this manager's own address"
                )
            }
        }
        let listensOnAWildcard = (try? ListenAddress(listen, option: "--listen"))?.isWildcard
        if sharded, advertise == nil, listensOnAWildcard == true {
            throw ValidationError(
                "--sharded: --listen \(listen) is a wildcard address agents cannot be sent to; give --advertise host:port"
            )
        }
        // Named after a wildcard address, every manager listening on it would join the group
        // under one name, and each would take the seat chosen for that name: two leaders.
        if etcd != nil, !sharded, name == nil, listensOnAWildcard == true {
            throw ValidationError(
                "--etcd: --listen \(listen) is a wildcard address every manager on that port shares, and the group tells managers apart by name; give --name"
            )
        }
        if let etcd { try checkEtcdOption(etcd, command: "serve") }
        if datagramBatching != nil, !heartbeatDatagrams {
            throw ValidationError("--datagram-batching needs --heartbeat-datagrams")
        }
        if echo {
            let dispatcherOnly = [
                ("--etcd", etcd != nil), ("--sharded", sharded), ("--metrics", metrics != nil),
                ("--expiry-log", expiryLog != nil), ("--heartbeat-datagrams", heartbeatDatagrams),
                ("--grpc-swift-heartbeats", grpcSwiftHeartbeats),
            ]
            if let (option, _) = dispatcherOnly.first(where: \.1) {
                throw ValidationError("--echo serves no dispatcher, so \(option) has nothing to act on")
            }
        }
    }

    #if GRPC
    func run() async throws {
        logLevel.bootstrap()
        SharedEventLoops.install()
        let address = try ListenAddress(listen, option: "--listen")
        if echo { return try await runEcho(at: address) }
        // The backend goes in before the dispatcher makes its instruments, and the endpoint
        // listens before anything else starts, so a port in use fails the command at once.
        var endpoint: MetricsEndpoint?
        if let metrics {
            let at = try ListenAddress(metrics, option: "--metrics")
            let factory = DescribedPrometheusFactory(
                describing: DispatcherMetrics.descriptions + RPCMetrics.descriptions
                    + HeartbeatDatagramMetrics.descriptions)
            MetricsSystem.bootstrap(factory)
            endpoint = try await MetricsEndpoint.bind(host: at.host, port: at.port, registry: factory.registry)
        }
        var dispatcherConfiguration = DispatcherConfiguration()
        dispatcherConfiguration.heartbeatPeriod = heartbeat.period.value
        dispatcherConfiguration.heartbeatJitter = heartbeat.jitter.value
        dispatcherConfiguration.graceMultiplier = heartbeat.grace
        let logger = Logger(label: "beacon.serve")
        let tasksPerNode = tasksPerNode
        let spec = [UInt8](repeating: 0x5A, count: taskBytes)
        let store: any DispatcherStore
        let admission: DispatcherRPCService.Admission
        #if Etcd
        // With etcd, the records live there (beside the group, not under its prefix, which the
        // scheduler's participants watch), and the leadership fences them on the group's choice.
        var onEtcd: (coordination: EtcdCoordinationStore, records: CoordinatedDispatcherStore)?
        if let etcd {
            let coordination = try EtcdCoordinationStore(endpoints: etcdEndpoints(etcd))
            onEtcd = (
                coordination, try await CoordinatedDispatcherStore.open(on: coordination, prefix: group + "-records/")
            )
        }
        if let records = onEtcd?.records {
            store = records
            admission = { node, description throws(DispatcherError) in
                guard records.node(node) == nil, try await records.createNode(node, description: description) else {
                    return
                }
                for index in 0..<tasksPerNode { try await records.putTask(Self.demoTask(index, on: node, spec: spec)) }
            }
        } else {
            (store, admission) = Self.inMemory(tasksPerNode: tasksPerNode, spec: spec)
        }
        #else
        (store, admission) = Self.inMemory(tasksPerNode: tasksPerNode, spec: spec)
        #endif
        let dispatcher = try Dispatcher(configuration: dispatcherConfiguration, store: store, logger: logger)
        let tls = try serverTLS()
        var serverConfiguration = try DispatcherServerConfiguration(host: address.host, port: address.port, tls: tls)
        serverConfiguration.recordsCallLatency = endpoint != nil
        serverConfiguration.acceptsHeartbeatDatagrams = heartbeatDatagrams
        serverConfiguration.answersHeartbeatsOnEventLoop = !grpcSwiftHeartbeats
        if let datagramBatching { try serverConfiguration.setHeartbeatDatagramBatching(datagramBatching.value) }
        let server = try DispatcherServer(
            dispatcher: dispatcher, configuration: serverConfiguration,
            admission: admission, logger: logger)
        let report = ServeReport(
            dispatcher: dispatcher, store: store, interval: reportEvery.value, expiryLog: expiryLog)
        // A group shuts its services down last to first: the dispatcher stops leading (nodes are
        // told to disconnect, streams end) before the server finishes the calls in flight.
        var leader = ServiceGroupConfiguration.ServiceConfiguration(
            service: LifecycleService(dispatcher), successTerminationBehavior: .gracefullyShutdownGroup)
        #if Etcd
        if let onEtcd, sharded {
            leader = .init(
                service: EtcdManagerService.sharded(
                    dispatcher, coordination: onEtcd.coordination, records: onEtcd.records,
                    root: group + "-managers/",
                    manager: WeightedManager(nodeID: name ?? advertise ?? listen, address: advertise ?? listen)),
                successTerminationBehavior: .gracefullyShutdownGroup)
        } else if let onEtcd {
            leader = .init(
                service: EtcdManagerService.leading(
                    dispatcher, coordination: onEtcd.coordination, records: onEtcd.records, group: group,
                    name: name ?? listen),
                successTerminationBehavior: .gracefullyShutdownGroup)
        }
        #endif
        // First in the list, so shut down last: the metrics can be scraped until the end.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: report), .init(service: server), leader,
        ]
        if let endpoint { services.insert(.init(service: endpoint), at: 0) }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        if let endpoint { LineOutput.standardOutput.write("metrics on http://\(endpoint.address)/metrics") }
        let datagrams = heartbeatDatagrams ? " and heartbeat datagrams on UDP" : ""
        let settings = "\(Self.security(tls))\(datagrams); period \(heartbeat.period), grace \(heartbeat.grace)"
        try await Self.run(
            group, listeningPort: { try await server.listeningPort },
            announcement: { "serving the dispatcher on \(address.dialable(port: $0))\(settings)" })
    }

    /// `--echo`: the same transport, TLS and limits as the dispatcher's server, answering with
    /// ``DispatcherEchoService``.
    private func runEcho(at address: ListenAddress) async throws {
        let tls = try serverTLS()
        let configuration = try DispatcherServerConfiguration(host: address.host, port: address.port, tls: tls)
        let echo = DispatcherEchoService(
            heartbeat: try JitteredPeriodPolicy(
                period: heartbeat.period.value, jitter: heartbeat.jitter.value, graceMultiplier: heartbeat.grace),
            requiresClientCertificate: tls?.isMutual ?? false)
        let listener = RPCListener(configuration: configuration, services: [echo], onShutdown: echo.endStreams)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: listener)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "beacon.serve")))
        let settings = "\(Self.security(tls)); period \(heartbeat.period) ± \(heartbeat.jitter)"
        try await Self.run(
            group, listeningPort: { try await listener.listeningPort },
            announcement: { "serving the echo baseline (no dispatcher) on \(address.dialable(port: $0))\(settings)" })
    }

    /// Runs `group`, and prints `announcement` with the port once the server listens (the port the
    /// system chose, for port 0).
    private static func run(
        _ group: ServiceGroup, listeningPort: @escaping @Sendable () async throws -> Int,
        announcement: @escaping @Sendable (Int) -> String
    ) async throws {
        let announcing = Task {
            guard let port = try? await listeningPort() else { return }
            LineOutput.standardOutput.write(announcement(port))
        }
        defer { announcing.cancel() }
        try await group.run()
    }

    private func serverTLS() throws -> ServerTLS? {
        try tlsCert.map { certificate in
            try ServerTLS(
                certificateChainFile: certificate, privateKeyFile: tlsKey!, clientCertificateAuthorityFile: clientCA)
        }
    }

    private static func security(_ tls: ServerTLS?) -> String {
        guard let tls else { return "" }
        return tls.isMutual ? " (mutual TLS)" : " (TLS)"
    }

    /// Without etcd: the records in this process's memory, and any node let in.
    private static func inMemory(tasksPerNode: Int, spec: [UInt8]) -> (
        any DispatcherStore, DispatcherRPCService.Admission
    ) {
        let store = InMemoryDispatcherStore()
        return (
            store,
            { node, description in
                guard store.createNode(node, description: description) else { return }
                for index in 0..<tasksPerNode { store.putTask(demoTask(index, on: node, spec: spec)) }
            }
        )
    }

    /// The tasks a node is given when it is let in, for the load generator to receive.
    private static func demoTask(_ index: Int, on node: NodeID, spec: [UInt8]) -> DispatchedTask {
        DispatchedTask(id: "\(node)/task-\(index)", nodeID: node, status: TaskStatus(state: .assigned), spec: spec)
    }

    #else
    func run() async throws {
        throw grpcRequired("serve")
    }
    #endif
}

#if GRPC
/// Prints the server's numbers every interval, and writes the expiry log.
struct ServeReport: Service {
    let dispatcher: Dispatcher<MonotonicClock>
    let store: any DispatcherStore
    let interval: Duration
    let expiryLog: String?

    func run() async throws {
        let expiries = PosixMutex([(NodeID, BeaconInstant)]())
        dispatcher.observeExpiries { node, at in expiries.withLock { $0.append((node, at)) } }
        // Appended to, as the help says: several runs (a restarted server, or one per manager
        // writing to one file) each add their lines; loadgen matches each stopped node with the
        // first expiry after its last beat.
        let log = try expiryLog.map { path in
            let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            let openError = errno
            guard descriptor >= 0 else {
                throw ValidationError("cannot write --expiry-log \(path): \(String(cString: strerror(openError)))")
            }
            return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        }
        let clock = ContinuousClock()
        var last = (time: clock.now, cpu: ProcessCPU.seconds(), beats: dispatcher.heartbeatCount)
        var down = 0
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            let now = (time: clock.now, cpu: ProcessCPU.seconds(), beats: dispatcher.heartbeatCount)
            let seconds = Stopwatch.seconds(now.time - last.time)
            let expired = expiries.withLock { list in
                defer { list.removeAll() }
                return list
            }
            down += expired.count
            if let log, !expired.isEmpty {
                do {
                    try log.write(contentsOf: Data(expired.map { "\($0.0) \($0.1.nanoseconds)\n" }.joined().utf8))
                } catch {
                    // A full disk loses these lines, not the server.
                    LineOutput.standardError.write("cannot append to --expiry-log: \(error)")
                }
            }
            let nodes = store.allNodes()
            let ready = nodes.count { $0.status.state == .ready }
            LineOutput.standardOutput.write(
                String(
                    format: "nodes %d (ready %d), heartbeats %.0f/s, CPU %.1f %% of a core, marked DOWN %d (total %d)",
                    nodes.count, ready, Double(now.beats - last.beats) / seconds,
                    100 * (now.cpu - last.cpu) / seconds, expired.count, down))
            last = now
        }
        try log?.close()
    }
}
#endif
