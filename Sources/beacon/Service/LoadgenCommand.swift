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
            Starts --nodes agents, multiplexed over --connections HTTP/2 connections, ramping up \
            over --ramp. After a third of --duration it stops --stop-fraction of them; at the \
            end it asks the dispatcher about each stopped node (a heartbeat on its old session must \
            answer NotFound) and, given the server's --expiry-log, how long after its last heartbeat \
            each was marked DOWN. Reports heartbeats per second, heartbeat round trips (p50, p99), \
            live agents that lost their session (false DOWNs), assignment bytes, and the server's CPU \
            when given --server-pid.

            Options are checked the same way in every build; a build without the GRPC trait then \
            says that it cannot run the command, so a command line it accepts runs as typed once \
            rebuilt.
            """)

    @Option(help: "The dispatcher's host:port, [IPv6]:port or name:port, port 1...65535.")
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
        help: Self.connectionCounts.help("HTTP/2 connections the agents share", default: Self.defaultConnections),
        transform: Self.connectionCounts.parse)
    var connections = Self.defaultConnections
    @Option(
        help: Self.assignmentNodeCounts.help(
            "Agents that follow their assignment stream (the rest only heartbeat and report)",
            default: Self.defaultAssignmentNodes,
            "At most --nodes do."),
        transform: Self.assignmentNodeCounts.parse)
    var assignmentNodes = Self.defaultAssignmentNodes
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
    @Option(help: "Node id prefix, 1 to 200 visible ASCII characters.")
    var prefix = "loadgen"
    @Option(
        help: Self.processIDs.help(
            "Process id of `beacon serve`, to report its CPU (Linux /proc)", absent: "the server's CPU is not reported"),
        transform: Self.processIDs.parse)
    var serverPid: Int?
    @Option(
        help:
            "The file `beacon serve --expiry-log` writes, to report how late each stopped node was marked DOWN (default: lateness is not reported)."
    )
    var expiryLog: String?
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
    static let defaultNodes = 10_000
    static let defaultDuration = DurationArgument(.seconds(60))
    static let defaultRamp = DurationArgument(.seconds(10))
    static let defaultConnections = 4
    static let defaultAssignmentNodes = 1_000
    static let defaultStopFraction = 0.1

    func validate() throws {
        do {
            _ = try ManagerAddress(manager)
        } catch {
            throw ValidationError("--manager: \(error)")
        }
        try OptionCheck.identifier(prefix, "--prefix", atMost: 200)
    }

    #if GRPC
    func run() async throws {
        logLevel.bootstrap()
        // Swift concurrency's jobs run on SwiftNIO's event loops, saving a thread hop per message.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let run = try LoadGeneration(command: self)
        try await run.run()
    }
    #else
    func run() async throws {
        throw grpcRequired("loadgen")
    }
    #endif
}
