import ArgumentParser
import BeaconAgent
import BeaconCommandLine

#if GRPC
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherAPI
import BenchmarkSupport
import Foundation
import GRPCCore
import NIOCore
import NIOPosix
#endif

struct LoadgenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Run many node agents against a dispatcher and measure it (needs a build with `--traits GRPC`).",
        discussion: """
            Starts --nodes agents, multiplexed over --connections HTTP/2 connections (and as many \
            again for unary calls, apart from the long-lived streams), ramping up \
            over --ramp. After a third of --duration it stops --stop-fraction of them; at the \
            end it asks the dispatcher about each stopped node (a heartbeat on its old session must \
            answer NotFound) and, given the server's --expiry-log, how long after its last heartbeat \
            each was marked DOWN. Reports heartbeats per second, heartbeat round trips (p50, p99), \
            live agents that lost their session (false DOWNs), assignment bytes, its own CPU per \
            heartbeat, and with --server-pid the server's CPU per heartbeat and memory per agent.

            Against managers that share the nodes (`beacon serve --etcd … --sharded`), give them \
            all to --manager, comma-separated: each agent starts at one of them in turn and \
            follows the manager that names its owner. The report adds each manager's share of the \
            heartbeats (and CPU, with one --server-pid per manager). With --kill-after, the last \
            manager is killed with SIGKILL at that point of the run (its --server-pid is needed), \
            and the report adds how long its agents took to hold a session elsewhere.

            Options are checked the same way in every build; a build without the GRPC trait then \
            says that it cannot run the command, so a command line it accepts runs as typed once \
            rebuilt.
            """)

    @Option(
        help:
            "The dispatcher's host:port, [IPv6]:port or name:port, port 1...65535; several, comma-separated, for managers that share the nodes, each spelled as it advertises itself (its `serve --advertise`), so the report can tell which agent is where."
    )
    var manager = "127.0.0.1:4242"
    @Option(help: Self.nodeCounts.help("Agents to run", default: Self.defaultNodes), transform: Self.nodeCounts.parse)
    var nodes = Self.defaultNodes
    @Option(
        help: Self.durations.help("How long to run after the ramp (60s, 5m)", default: Self.defaultDuration),
        transform: Self.durations.parse)
    var duration = Self.defaultDuration
    @Option(
        help: Self.ramps.help("Time over which the agents start", default: Self.defaultRamp),
        transform: Self.ramps.parse)
    var ramp = Self.defaultRamp
    @Option(
        help: Self.connectionCounts.help(
            "HTTP/2 connections the agents' streams share (unary calls get as many more)",
            default: Self.defaultConnections),
        transform: Self.connectionCounts.parse)
    var connections = Self.defaultConnections
    @Option(
        name: .customLong("assignment-nodes"),
        help: Self.assignmentNodeCounts.help(
            "Agents that follow their assignment stream (the rest only heartbeat and report)",
            default: Self.defaultAssignmentNodes,
            "At most --nodes: the default is cut to it, a larger value given is refused."),
        transform: Self.assignmentNodeCounts.parse)
    var assignmentNodesOption: Int?
    @Option(
        help: Self.stopFractions.help(
            "Fraction of agents stopped after a third of the run", default: Self.defaultStopFraction),
        transform: Self.stopFractions.parse)
    var stopFraction = Self.defaultStopFraction
    /// The server's settings, which the agents cannot learn from it: how long a stopped node may
    /// take to be marked DOWN.
    @OptionGroup var heartbeat: HeartbeatOptions
    @Flag(help: "Send each heartbeat as a unary call (SwarmKit's way) instead of on a stream.")
    var unaryHeartbeats = false
    @Flag(
        help:
            "Send each heartbeat as a UDP datagram to the manager's host and port number (for `beacon serve --heartbeat-datagrams`) instead of on a stream."
    )
    var datagramHeartbeats = false
    @Option(help: "Node id prefix, 1 to 200 visible ASCII characters.")
    var prefix = "loadgen"
    @Option(
        help:
            "Process id of `beacon serve`, to report its CPU (Linux /proc); one per --manager, comma-separated, in the same order (default: the server's CPU is not reported)."
    )
    var serverPid: String?
    @Option(
        help: Self.killTimes.help(
            "Kill the last --manager with SIGKILL this long after the ramp (needs its --server-pid)",
            absent: "no manager is killed"),
        transform: Self.killTimes.parse)
    var killAfter: DurationArgument?
    @Option(
        help:
            "The file `beacon serve --expiry-log` writes, to report how late each stopped node was marked DOWN (default: lateness is not reported)."
    )
    var expiryLog: String?
    @Option(
        help:
            "Comma-separated etcd client URLs of the managers' store (`serve --etcd`): report etcd's writes per second beside the heartbeats per second, read from its revision (needs `--traits GRPC,Etcd`) (default: not reported)."
    )
    var etcd: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical (to standard error).")
    var logLevel = LogLevelOption.info

    /// Agents one process runs. A release build held 2.8 GB at 30 000 agents (about 93 KB each:
    /// two streams, statuses, an assignment set; docs/benchmarks.md), so this many take some
    /// 19 GB, within a 24 GiB machine.
    static let maximumNodes = 200_000
    static let nodeCounts = OptionValue.integer(in: 1...maximumNodes)
    static let assignmentNodeCounts = OptionValue.integer(in: 0...maximumNodes)
    static let durations = OptionValue.duration(in: .milliseconds(1)...(.seconds(1_000_000)))
    static let ramps = OptionValue.duration(in: .zero...(.seconds(1_000_000)))
    static let connectionCounts = OptionValue.integer(in: 1...10_000)
    static let stopFractions = OptionValue.decimal(in: DecimalRange(from: 0, through: 1))
    static let processIDs = OptionValue.integer(in: 1...Int(Int32.max))
    static let killTimes = OptionValue.duration(in: .milliseconds(1)...(.seconds(1_000_000)))
    static let defaultNodes = 10_000
    static let defaultDuration = DurationArgument(.seconds(60))
    static let defaultRamp = DurationArgument(.seconds(10))
    static let defaultConnections = 4
    static let defaultAssignmentNodes = 1_000
    static let defaultStopFraction = 0.1

    func validate() throws {
        let managers = try managerList()
        let pids = try serverPids()
        guard pids.isEmpty || pids.count == managers.count else {
            throw ValidationError(
                "--server-pid: \(pids.count) process ids for \(managers.count) managers; give one per --manager, in order"
            )
        }
        if let killAfter {
            guard managers.count > 1, pids.count == managers.count else {
                throw ValidationError("--kill-after needs two or more --manager addresses and a --server-pid for each")
            }
            guard killAfter.value < duration.value else {
                throw ValidationError("--kill-after \(killAfter) must come before the end of --duration \(duration)")
            }
        }
        if let assignmentNodesOption, assignmentNodesOption > nodes {
            throw ValidationError(
                "--assignment-nodes \(assignmentNodesOption): at most --nodes (\(nodes)) agents can follow their assignments; give 0...\(nodes)"
            )
        }
        guard !(unaryHeartbeats && datagramHeartbeats) else {
            throw ValidationError("--unary-heartbeats and --datagram-heartbeats exclude each other")
        }
        try OptionCheck.identifier(prefix, "--prefix", atMost: 200)
        if let etcd { try checkEtcdOption(etcd, command: "loadgen") }
    }

    /// Agents that follow their assignment stream: `--assignment-nodes`, or its default cut to
    /// `--nodes`.
    var assignmentNodes: Int { assignmentNodesOption ?? min(Self.defaultAssignmentNodes, nodes) }

    /// The managers `--manager` lists, each a valid address, none twice.
    func managerList() throws(ValidationError) -> [String] {
        let managers = manager.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        try checkManagerAddresses(managers)
        return managers
    }

    /// The process ids `--server-pid` lists.
    func serverPids() throws(ValidationError) -> [Int32] {
        guard let serverPid else { return [] }
        return try serverPid.split(separator: ",", omittingEmptySubsequences: false).map {
            (text) throws(ValidationError) -> Int32 in
            // The shared integer reader: digits only, so "+5" and " 5" are refused as well.
            guard let pid = try? Self.processIDs.parse(String(text)) else {
                throw ValidationError(
                    "--server-pid: '\(text)' is not a process id (a whole number in \(Self.processIDs))")
            }
            return Int32(pid)
        }
    }

    #if GRPC
    func run() async throws {
        logLevel.bootstrap()
        SharedEventLoops.install()
        let run = try LoadGeneration(command: self)
        try await run.run()
    }
    #else
    func run() async throws {
        throw grpcRequired("loadgen")
    }
    #endif
}
