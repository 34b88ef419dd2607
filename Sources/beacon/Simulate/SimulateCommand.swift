import ArgumentParser
import BeaconCommandLine
import BeaconReports
import BeaconSimulation

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Beacon's layers against many simulated nodes.",
        subcommands: [SimulateDispatcher.self]
    )
}

struct SimulateDispatcher: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatcher",
        abstract:
            "Simulated agents register with a dispatcher, heartbeat on the period it returns and receive assignments while an orchestrator churns tasks; a fraction of them go silent. Reports heartbeat cost, memory per node, DOWN lateness and assignment bytes, and checks that no live node went DOWN and no silent one was missed. With --managers, several dispatchers split the nodes instead and the last one is killed mid-run: reports each manager's share, the handoff (nodes moved, time to a new session, DOWNs, statuses lost) and store writes against heartbeats."
    )

    static let nodeCounts = OptionValue.integer(in: 1...DispatcherSimulationPlan.maximumNodes)
    static let durations = OptionValue.duration(
        in: DispatcherSimulationPlan.minimumDuration...DispatcherSimulationPlan.maximumDuration)
    static let silentFractions = OptionValue.decimal(in: DecimalRange(from: 0, through: 1))
    static let assignmentNodeCounts = OptionValue.integer(in: 0...DispatcherSimulationPlan.maximumNodes)
    static let churnRates = OptionValue.integer(in: 0...100_000)
    static let seeds = OptionValue.integer(in: 0...Int.max)
    static let managerCounts = OptionValue.integer(in: 2...ShardedSimulationPlan.maximumManagers)
    static let leaseTTLs = OptionValue.duration(in: .seconds(1)...(.seconds(300)))
    static let instants = OptionValue.duration(
        in: .seconds(10)...DispatcherSimulationPlan.maximumDuration)
    static let killInstants = OptionValue.duration(
        in: ShardedSimulationPlan.earliestKill...DispatcherSimulationPlan.maximumDuration)
    static let defaultNodes = 100_000
    static let defaultDuration = DurationArgument(.seconds(60))
    static let defaultLeaseTTL = DurationArgument(ShardedSimulationPlan.defaultLeaseTTL)
    static let defaultSilentFraction = 0.01
    /// Streams opened without `--assignment-nodes`, capped at the node count.
    static let defaultAssignmentNodes = 1_000
    static let defaultChurn = 500
    static let defaultSeed = 1

    @Option(help: Self.nodeCounts.help("Simulated nodes", default: Self.defaultNodes), transform: Self.nodeCounts.parse)
    var nodes = Self.defaultNodes

    @Option(
        help: Self.durations.help(
            "Simulated time (30s, 10m, 1h)", default: Self.defaultDuration,
            "Long enough that nodes silenced a third of the way in pass their deadline."),
        transform: Self.durations.parse)
    var duration = Self.defaultDuration

    @Flag(help: "Run on a manual clock, as fast as the machine allows, instead of in real time.")
    var virtualTime = false

    @Option(
        help: Self.silentFractions.help(
            "Fraction of nodes that stop heartbeating a third of the way in", default: Self.defaultSilentFraction),
        transform: Self.silentFractions.parse)
    var silentFraction = Self.defaultSilentFraction

    @Option(
        help: Self.assignmentNodeCounts.help(
            "Nodes with an open assignment stream, which the orchestrator churns tasks on",
            absent: "\(Self.defaultAssignmentNodes), or every node when --nodes is smaller",
            "At most --nodes."),
        transform: Self.assignmentNodeCounts.parse)
    var assignmentNodes: Int?

    @Option(
        help: Self.churnRates.help(
            "Task creations, updates and deletions per simulated second", default: Self.defaultChurn),
        transform: Self.churnRates.parse)
    var churn = Self.defaultChurn

    @Option(
        help: Self.seeds.help(
            "Seed for the choice of silent nodes and the orchestrator's churn", default: Self.defaultSeed),
        transform: Self.seeds.parse)
    var seed = Self.defaultSeed

    @Option(
        help: Self.managerCounts.help(
            "Managers that split the nodes (needs --virtual-time)", absent: "one dispatcher holds every node",
            "The last one is killed at --kill-at."),
        transform: Self.managerCounts.parse)
    var managers: Int?

    @Option(
        help: Self.killInstants.help(
            "When the last manager is killed (with --managers)", absent: "a third of the way in"),
        transform: Self.killInstants.parse)
    var killAt: DurationArgument?

    @Option(
        help: Self.leaseTTLs.help(
            "How long a killed manager's lease outlives it (with --managers)", default: Self.defaultLeaseTTL),
        transform: Self.leaseTTLs.parse)
    var leaseTTL: DurationArgument?

    @Option(
        help: Self.instants.help(
            "When the killed manager starts again, counted from the kill (with --managers)", absent: "it stays dead"),
        transform: Self.instants.parse)
    var rejoinAfter: DurationArgument?

    @OptionGroup var output: ReportFormatOption

    func validate() throws {
        if managers != nil {
            _ = try shardedPlan()
        } else {
            _ = try plan()
            let sharded = [
                ("--kill-at", killAt != nil), ("--rejoin-after", rejoinAfter != nil),
                ("--lease-ttl", leaseTTL != nil),
            ]
            for (name, given) in sharded where given {
                throw ValidationError("\(name) needs --managers")
            }
        }
    }

    /// The sharded plan the options describe, when `--managers` is given.
    func shardedPlan() throws(ValidationError) -> ShardedSimulationPlan {
        guard virtualTime else { throw ValidationError("--managers needs --virtual-time") }
        guard silentFraction == Self.defaultSilentFraction, assignmentNodes == nil, churn == Self.defaultChurn else {
            throw ValidationError(
                "--silent-fraction, --assignment-nodes and --churn apply to one dispatcher, not to --managers")
        }
        do {
            return try ShardedSimulationPlan(
                nodes: nodes, managers: managers ?? 2, duration: duration.value, killAt: killAt?.value,
                leaseTTL: (leaseTTL ?? Self.defaultLeaseTTL).value, rejoinAfter: rejoinAfter?.value, seed: UInt64(seed))
        } catch {
            throw ValidationError("--managers: \(error)")
        }
    }

    /// The streams to open: the option's value, or by default 1 000 (every node when there are fewer).
    var streams: Int { assignmentNodes ?? min(Self.defaultAssignmentNodes, nodes) }

    /// The plan the options describe; the library checks the ranges and names the value it refuses.
    func plan() throws(ValidationError) -> DispatcherSimulationPlan {
        do {
            return try DispatcherSimulationPlan(
                nodes: nodes, duration: duration.value, silentFraction: silentFraction, assignmentNodes: streams,
                churnPerSecond: churn, seed: UInt64(seed))
        } catch {
            switch error {
            case .nodes: throw ValidationError("--nodes must be in \(Self.nodeCounts)")
            case .duration: throw ValidationError("--duration must be in \(Self.durations)")
            case .silentFraction: throw ValidationError("--silent-fraction must be in \(Self.silentFractions)")
            case .assignmentNodes(let count, let nodes):
                throw ValidationError(
                    "--assignment-nodes: \(count) is more than --nodes (\(nodes)); expected a whole number in 0...\(nodes)"
                )
            case .churnPerSecond: throw ValidationError("--churn must be in \(Self.churnRates)")
            case .managers, .killAt, .leaseTTL, .rejoinAfter: throw ValidationError("\(error)")
            }
        }
    }

    func run() async throws {
        if managers != nil {
            let outcome = try ShardedDispatcherSimulation(plan: try shardedPlan(), progress: progress).run()
            print(try outcome.report().rendered(as: output.format))
            if !outcome.verdict.isEmpty {
                throw SimulationFailed(problems: outcome.verdict)
            }
            return
        }
        let plan = try plan()
        let heapMeter = SimulationHeapMeter(start: HeapMeter.start, stop: HeapMeter.stop)
        let outcome =
            virtualTime
            ? try VirtualDispatcherSimulation(plan: plan, heapMeter: heapMeter, progress: progress).run()
            : try await RealTimeDispatcherSimulation(plan: plan, heapMeter: heapMeter, progress: progress).run()
        print(try outcome.report(virtualTime: virtualTime).rendered(as: output.format))
        if !outcome.verdict.isEmpty {
            throw SimulationFailed(problems: outcome.verdict)
        }
    }
}
