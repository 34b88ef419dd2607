import ArgumentParser
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
        abstract: "Simulated agents register with a dispatcher, heartbeat on the period it returns and receive assignments while an orchestrator churns tasks; a fraction of them go silent. Reports heartbeat cost, memory per node, DOWN lateness and assignment bytes, and checks that no live node went DOWN and no silent one was missed."
    )

    @Option(
        help: "Simulated nodes, in 1...\(DispatcherSimulationPlan.maximumNodes).",
        transform: OptionValue.integer(in: 1...DispatcherSimulationPlan.maximumNodes))
    var nodes: Int = 100_000

    static let durations = DispatcherSimulationPlan.minimumDuration...DispatcherSimulationPlan.maximumDuration

    @Option(
        help: "Simulated time: 30s, 10m, 1h; in \(OptionValue.describe(durations)), so that nodes silenced a third of the way in pass their deadline.",
        transform: OptionValue.duration(in: durations))
    var duration = DurationArgument(.seconds(60))

    @Flag(help: "Run on a manual clock, as fast as the machine allows, instead of in real time.")
    var virtualTime = false

    @Option(
        help: "Fraction of nodes that stop heartbeating a third of the way in, in [0, 1].",
        transform: OptionValue.decimal(in: BenchOptionValue.range(from: 0, through: 1)))
    var silentFraction: Double = 0.01

    /// Streams opened without `--assignment-nodes`, capped at the node count.
    static let defaultAssignmentNodes = 1_000

    @Option(
        help: ArgumentHelp(
            "Nodes with an open assignment stream, which the orchestrator churns tasks on; in 0...--nodes (default: 1000, or every node when --nodes is smaller).",
            valueName: "assignment-nodes"),
        transform: OptionValue.integer(in: 0...DispatcherSimulationPlan.maximumNodes))
    var assignmentNodes: Int?

    @Option(
        help: "Task creations, updates and deletions per simulated second, in 0...100000.",
        transform: OptionValue.integer(in: 0...100_000))
    var churn: Int = 500

    @Option(help: "Seed for the choice of silent nodes and the orchestrator's churn, a whole number in 0...\(UInt64.max).",
        transform: { try BenchOptionValue.seed($0) })
    var seed: UInt64 = 1

    @OptionGroup var output: ReportFormatOption

    func validate() throws {
        _ = try plan()
    }

    /// The streams to open: the option's value, or by default 1 000 (every node when there are fewer).
    var streams: Int { assignmentNodes ?? min(Self.defaultAssignmentNodes, nodes) }

    /// The plan the options describe; the library checks the ranges and names the value it refuses.
    func plan() throws(ValidationError) -> DispatcherSimulationPlan {
        do {
            return try DispatcherSimulationPlan(
                nodes: nodes, duration: duration.value, silentFraction: silentFraction, assignmentNodes: streams,
                churnPerSecond: churn, seed: seed)
        } catch {
            switch error {
            case .nodes: throw ValidationError("--nodes must be in 1...\(DispatcherSimulationPlan.maximumNodes)")
            case .duration: throw ValidationError("--duration must be in \(OptionValue.describe(Self.durations))")
            case .silentFraction: throw ValidationError("--silent-fraction must be in [0, 1]")
            case .assignmentNodes(let count, let nodes):
                throw ValidationError("--assignment-nodes: \(count) is more than --nodes (\(nodes)); expected a whole number in 0...\(nodes)")
            case .churnPerSecond: throw ValidationError("--churn must be in 0...100000")
            }
        }
    }

    func run() async throws {
        let plan = try plan()
        let heapMeter = SimulationHeapMeter(start: HeapMeter.start, stop: HeapMeter.stop)
        let outcome =
            virtualTime
            ? try VirtualDispatcherSimulation(plan: plan, heapMeter: heapMeter, progress: progress).run()
            : try await RealTimeDispatcherSimulation(plan: plan, heapMeter: heapMeter, progress: progress).run()
        print(try outcome.report(virtualTime: virtualTime).rendered(as: output.format))
        if !outcome.verdict.isEmpty {
            throw ValidationError("simulation found problems: " + outcome.verdict.joined(separator: "; "))
        }
    }
}
