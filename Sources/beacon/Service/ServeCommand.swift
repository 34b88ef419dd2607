import BeaconPrimitives
import ArgumentParser
#if GRPC
import BeaconAgent
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherService
import BeaconLifecycle
import BenchmarkSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
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
            """)

    @Option(help: "Address to listen on (host:port; an IPv4 or IPv6 literal).")
    var listen = "127.0.0.1:4242"
    @Option(help: "Heartbeat period (5s, 500ms, 1m).")
    var period = DurationArgument(.seconds(5))
    @Option(help: "Heartbeat jitter: each period is drawn within ± this.")
    var jitter = DurationArgument(.milliseconds(500))
    @Option(help: "A node is marked DOWN after period × grace without a heartbeat.")
    var grace: Double = 3
    @Option(help: "Tasks assigned to each node when it is admitted.")
    var tasksPerNode = 1
    @Option(help: "Bytes of each task's spec.")
    var taskBytes = 256
    @Option(help: "Comma-separated etcd client URLs: join a dispatcher group there and lead only while chosen (needs `--traits GRPC,Etcd`).")
    var etcd: String?
    @Option(help: "The dispatcher group's path on etcd.")
    var group = "/beacon/dispatchers"
    @Option(help: "This dispatcher's name in the group (default: --listen).")
    var name: String?
    @Option(help: "Time between reports.")
    var reportEvery = DurationArgument(.seconds(5))
    @Option(help: "Append 'node monotonic-nanoseconds' for every node marked DOWN to this file (for `beacon loadgen --expiry-log`).")
    var expiryLog: String?
    @Option(help: "PEM certificate chain: serve TLS.")
    var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert.")
    var tlsKey: String?
    @Option(help: "PEM CA that client certificates must chain to: serve mutual TLS (node id = certificate CN).")
    var clientCA: String?

    func validate() throws {
        let hour = Duration.seconds(3600)
        guard period.value > .zero, period.value <= hour, reportEvery.value > .zero, reportEvery.value <= hour,
            (1 ... 100).contains(grace), jitter.value < period.value
        else {
            throw ValidationError("--period and --report-every must be in (0, 1h], --grace in 1...100, --jitter below --period")
        }
        guard tasksPerNode >= 0, taskBytes >= 0 else { throw ValidationError("--tasks-per-node and --task-bytes must not be negative") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        guard clientCA == nil || tlsCert != nil else { throw ValidationError("--client-ca needs --tls-cert and --tls-key") }
        #if !Etcd
        if etcd != nil {
            throw ValidationError("this beacon was built without etcd support; run it as `swift run -c release --traits GRPC,Etcd beacon serve …`")
        }
        #endif
        if let etcd { _ = try etcdEndpoints(etcd) }
    }

    #if GRPC
    func run() async throws {
        // Swift concurrency's jobs run on SwiftNIO's event loops, saving a thread hop per message.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let address = try ManagerAddress(listen)
        var dispatcherConfiguration = DispatcherConfiguration()
        dispatcherConfiguration.heartbeatPeriod = period.value
        dispatcherConfiguration.heartbeatJitter = jitter.value
        dispatcherConfiguration.graceMultiplier = grace
        let store = InMemoryDispatcherStore()
        let logger = Logger(label: "beacon.serve")
        let dispatcher = try Dispatcher(configuration: dispatcherConfiguration, store: store, logger: logger)
        let tls = try tlsCert.map { certificate in
            try ServerTLS(certificateChainFile: certificate, privateKeyFile: tlsKey!, clientCertificateAuthorityFile: clientCA)
        }
        let tasksPerNode = tasksPerNode
        let spec = [UInt8](repeating: 0x5A, count: taskBytes)
        let server = try DispatcherServer(
            dispatcher: dispatcher, configuration: DispatcherServerConfiguration(host: address.host, port: address.port, tls: tls),
            admission: { node, description in
                guard store.createNode(node, description: description) else { return }
                for index in 0 ..< tasksPerNode {
                    store.putTask(
                        DispatchedTask(id: "\(node)/task-\(index)", nodeID: node, status: TaskStatus(state: .assigned), spec: spec))
                }
            }, logger: logger)
        let report = ServeReport(dispatcher: dispatcher, store: store, interval: reportEvery.value, expiryLog: expiryLog)
        // A group shuts its services down last to first: the dispatcher stops leading (nodes are
        // told to disconnect, streams end) before the server finishes the calls in flight.
        var leader = ServiceGroupConfiguration.ServiceConfiguration(
            service: LifecycleService(dispatcher), successTerminationBehavior: .gracefullyShutdownGroup)
        #if Etcd
        if let etcd {
            leader = .init(
                service: EtcdLeadershipService(
                    dispatcher: dispatcher, endpoints: try etcdEndpoints(etcd), group: group,
                    name: name ?? listen),
                successTerminationBehavior: .gracefullyShutdownGroup)
        }
        #endif
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: report), .init(service: server), leader],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        print("serving the dispatcher on \(listen)\(tls == nil ? "" : tls!.isMutual ? " (mutual TLS)" : " (TLS)"); period \(period.value), grace \(grace)")
        try await group.run()
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
    let store: InMemoryDispatcherStore
    let interval: Duration
    let expiryLog: String?

    func run() async throws {
        let expiries = PosixMutex([(NodeID, BeaconInstant)]())
        dispatcher.observeExpiries { node, at in expiries.withLock { $0.append((node, at)) } }
        let log = try expiryLog.map { path in
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                throw ValidationError("cannot write --expiry-log \(path)")
            }
            return handle
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
                log.write(Data(expired.map { "\($0.0) \($0.1.nanoseconds)\n" }.joined().utf8))
            }
            let nodes = store.allNodes()
            let ready = nodes.count { $0.status.state == .ready }
            print(
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
