import ArgumentParser
#if GRPC
import BeaconAgent
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
            """)

    @Option(help: "The dispatcher's host:port.")
    var manager = "127.0.0.1:4242"
    @Option(help: "Agents to run.")
    var nodes = 10_000
    @Option(help: "How long to run after the ramp (60s, 5m).")
    var duration = DurationArgument(.seconds(60))
    @Option(help: "Time over which the agents start.")
    var ramp = DurationArgument(.seconds(10))
    @Option(help: "HTTP/2 connections the agents share.")
    var connections = 4
    @Option(help: "Agents that follow their assignment stream (the rest only heartbeat and report).")
    var assignmentNodes = 1_000
    @Option(help: "Fraction of agents stopped after a third of the run.")
    var stopFraction = 0.1
    @Option(help: "The server's heartbeat period (as given to `beacon serve --period`).")
    var period = DurationArgument(.seconds(5))
    @Option(help: "The server's heartbeat jitter (as given to `beacon serve --jitter`).")
    var jitter = DurationArgument(.milliseconds(500))
    @Option(help: "The server's heartbeat grace multiplier (as given to `beacon serve --grace`).")
    var grace: Double = 3
    @Flag(help: "Send each heartbeat as a unary call (SwarmKit's way) instead of on a stream.")
    var unaryHeartbeats = false
    @Option(help: "Node id prefix.")
    var prefix = "loadgen"
    @Option(help: "Process id of `beacon serve`, to report its CPU (Linux /proc).")
    var serverPid: Int32?
    @Option(help: "The file `beacon serve --expiry-log` writes, to report how late each stopped node was marked DOWN.")
    var expiryLog: String?

    func validate() throws {
        guard (1 ... 10_000_000).contains(nodes), (1 ... 10_000).contains(connections) else {
            throw ValidationError("--nodes must be in 1...10000000 and --connections in 1...10000")
        }
        guard duration.value > .zero, duration.value <= .seconds(1_000_000), ramp.value <= .seconds(1_000_000) else {
            throw ValidationError("--duration must be in (0, 1000000s] and --ramp at most 1000000s")
        }
        guard (0 ... 1).contains(stopFraction), assignmentNodes >= 0 else {
            throw ValidationError("--stop-fraction must be in 0...1 and --assignment-nodes not negative")
        }
        guard period.value > .zero, period.value <= .seconds(3600), (1 ... 100).contains(grace), jitter.value < period.value else {
            throw ValidationError("--period must be in (0, 1h], --grace in 1...100, --jitter below --period")
        }
    }

    #if GRPC
    func run() async throws {
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
