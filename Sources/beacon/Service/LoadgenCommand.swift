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
    @Option(help: "Agents to run, 1...\(Self.maximumNodes).", transform: OptionValue.integer(in: 1 ... Self.maximumNodes))
    var nodes = 10_000
    @Option(
        help: "How long to run after the ramp, \(OptionValue.describe(Self.durations)) (60s, 5m).",
        transform: OptionValue.duration(in: Self.durations))
    var duration = DurationArgument(.seconds(60))
    @Option(
        help: "Time over which the agents start, \(OptionValue.describe(Self.ramps)).",
        transform: OptionValue.duration(in: Self.ramps))
    var ramp = DurationArgument(.seconds(10))
    @Option(help: "HTTP/2 connections the agents share, 1...10000.", transform: OptionValue.integer(in: 1 ... 10_000))
    var connections = 4
    @Option(
        help: "Agents that follow their assignment stream (the rest only heartbeat and report), 0...\(Self.maximumNodes); at most --nodes do.",
        transform: OptionValue.integer(in: 0 ... Self.maximumNodes))
    var assignmentNodes = 1_000
    @Option(help: "Fraction of agents stopped after a third of the run, in [0, 1].", transform: OptionValue.decimal(in: ServiceOptionRange.fraction))
    var stopFraction = 0.1
    @Option(
        help: "The server's heartbeat period (as given to `beacon serve --period`), \(OptionValue.describe(ServiceOptionRange.periods)).",
        transform: OptionValue.duration(in: ServiceOptionRange.periods))
    var period = DurationArgument(.seconds(5))
    @Option(
        help: "The server's heartbeat jitter (as given to `beacon serve --jitter`), below --period.",
        transform: OptionValue.duration(in: ServiceOptionRange.jitters))
    var jitter = DurationArgument(.milliseconds(500))
    @Option(
        help: "The server's heartbeat grace multiplier (as given to `beacon serve --grace`), in [1, 100].",
        transform: OptionValue.decimal(in: ServiceOptionRange.grace))
    var grace: Double = 3
    @Flag(help: "Send each heartbeat as a unary call (SwarmKit's way) instead of on a stream.")
    var unaryHeartbeats = false
    @Option(help: "Node id prefix, 1 to 200 visible ASCII characters.")
    var prefix = "loadgen"
    @Option(
        help: "Process id of `beacon serve`, to report its CPU (Linux /proc), 1...\(Int32.max).",
        transform: OptionValue.integer(in: 1 ... Int(Int32.max)))
    var serverPid: Int?
    @Option(help: "The file `beacon serve --expiry-log` writes, to report how late each stopped node was marked DOWN.")
    var expiryLog: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical (to standard error).")
    var logLevel = LogLevelOption.info

    /// Agents one process runs. A release build held 2.8 GB at 30 000 agents (about 93 KB each:
    /// two streams, statuses, an assignment set; docs/benchmarks.md), so this many take some
    /// 19 GB, within a 24 GiB machine.
    static let maximumNodes = 200_000
    static let durations = Duration.milliseconds(1) ... .seconds(1_000_000)
    static let ramps = Duration.zero ... .seconds(1_000_000)

    func validate() throws {
        do {
            _ = try ManagerAddress(manager)
        } catch {
            throw ValidationError("--manager: \(error)")
        }
        try OptionCheck.jitter(jitter.value, below: period.value)
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
