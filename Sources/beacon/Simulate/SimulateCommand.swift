import ArgumentParser
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

    @Option(help: "Simulated nodes.")
    var nodes: Int = 100_000

    @Option(help: "Simulated time: 30s, 10m, 1h. At least 30 s, so that nodes silenced a third of the way in pass their deadline.")
    var duration: DurationArgument = DurationArgument(.seconds(60))

    @Flag(help: "Run on a manual clock, as fast as the machine allows, instead of in real time.")
    var virtualTime = false

    @Option(help: "Fraction of nodes that stop heartbeating a third of the way in.")
    var silentFraction: Double = 0.01

    @Option(help: "Nodes with an open assignment stream, which the orchestrator churns tasks on.")
    var assignmentNodes: Int = 1_000

    @Option(help: "Task creations, updates and deletions per simulated second.")
    var churn: Int = 500

    @Option(help: "Seed for the choice of silent nodes and the orchestrator's churn.")
    var seed: UInt64 = 1

    @Option(help: "Output format: table or json.")
    var format: BenchPlacers.Format = .table

    func validate() throws {
        _ = try plan()
        guard format != .html else { throw ValidationError("--format must be table or json") }
    }

    /// The plan the options describe; the library checks the ranges and names the value it refuses.
    func plan() throws(ValidationError) -> DispatcherSimulationPlan {
        do {
            return try DispatcherSimulationPlan(
                nodes: nodes, duration: duration.value, silentFraction: silentFraction, assignmentNodes: assignmentNodes,
                churnPerSecond: churn, seed: seed)
        } catch {
            switch error {
            case .nodes: throw ValidationError("--nodes must be in 1...\(DispatcherSimulationPlan.maximumNodes)")
            case .duration: throw ValidationError("--duration must be between 30s and 24h")
            case .silentFraction: throw ValidationError("--silent-fraction must be in 0...1")
            case .assignmentNodes: throw ValidationError("--assignment-nodes must be in 0...--nodes")
            case .churnPerSecond: throw ValidationError("--churn must not be negative")
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
        print(try outcome.report(virtualTime: virtualTime).rendered(as: format))
        if !outcome.verdict.isEmpty {
            throw ValidationError("simulation found problems: " + outcome.verdict.joined(separator: "; "))
        }
    }
}
