import ArgumentParser
import BeaconCommandLine
import BeaconCore
import BeaconPlacement
import BeaconReports
import BeaconSimulation
import BenchmarkSupport
import Foundation

struct BenchPlacement: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "placement",
        abstract: "Compare Fn's call placers and Beacon's: overhead per call, and a simulated runner pool with NACKs."
    )

    @OptionGroup var output: ReportFormatOption

    static let runnerRange = 10...1000
    static let utilisationRange = DecimalRange(above: 0, through: 1.5)
    static let slotCounts = OptionValue.integer(in: 1...10_000)
    static let functionCounts = OptionValue.integer(in: 1...10_000_000)
    static let zipfExponents = OptionValue.decimal(in: DecimalRange(from: 0, through: 5))
    static let serviceTimes = OptionValue.duration(in: .milliseconds(1)...(.seconds(3600)))
    /// An attempt costs a fraction of a millisecond, so this option counts microseconds.
    static let attemptCosts = OptionValue.duration(in: .zero...(.seconds(1)), resolution: .microsecond)
    static let durations = OptionValue.duration(in: .milliseconds(1)...(.seconds(3600)))
    static let epsilons = OptionValue.decimal(in: DecimalRange(above: 0, through: 10))
    static let seeds = OptionValue.integer(in: 0...Int.max)
    static let overheadCallCounts = OptionValue.integer(in: 0...100_000_000)
    static let defaultSlots = 8
    static let defaultFunctions = 10_000
    static let defaultZipf = 0.9
    static let defaultServiceTime = DurationArgument(.milliseconds(100))
    static let defaultAttemptCost = DurationArgument(.microseconds(200))
    static let defaultDuration = DurationArgument(.seconds(30))
    static let defaultEpsilon = 0.1
    static let defaultSeed = 1
    static let defaultOverheadCalls = 1_000_000

    @Option(help: "Comma-separated runner counts, each in \(Self.runnerRange), none twice.")
    var runners: String = "10,100"

    @Option(help: "Comma-separated utilisations, each in \(Self.utilisationRange), none twice.")
    var utilisation: String = "0.5,0.8,0.95"

    @Option(
        help: Self.slotCounts.help("Concurrent calls per runner before it NACKs", default: Self.defaultSlots),
        transform: Self.slotCounts.parse)
    var slots = Self.defaultSlots

    @Option(
        help: Self.functionCounts.help("Distinct functions", default: Self.defaultFunctions),
        transform: Self.functionCounts.parse)
    var functions = Self.defaultFunctions

    @Option(
        help: Self.zipfExponents.help("Zipf exponent of function popularity", default: Self.defaultZipf),
        transform: Self.zipfExponents.parse)
    var zipf = Self.defaultZipf

    @Option(
        help: Self.serviceTimes.help(
            "Mean run time of a call (exponentially distributed)", default: Self.defaultServiceTime),
        transform: Self.serviceTimes.parse)
    var serviceTime = Self.defaultServiceTime

    @Option(
        help: Self.attemptCosts.help(
            "What one attempt (accepted or refused) costs the placer, to the microsecond",
            default: Self.defaultAttemptCost),
        transform: Self.attemptCosts.parse)
    var attemptCost = Self.defaultAttemptCost

    @Option(
        help: Self.durations.help(
            "Simulated time per run", default: Self.defaultDuration, "The first tenth is warm-up."),
        transform: Self.durations.parse)
    var duration = Self.defaultDuration

    @Option(
        help: Self.epsilons.help("Load factor ε of the bounded-load placer", default: Self.defaultEpsilon),
        transform: Self.epsilons.parse)
    var epsilon = Self.defaultEpsilon

    @Option(help: Self.seeds.help("Random seed", default: Self.defaultSeed), transform: Self.seeds.parse)
    var seed = Self.defaultSeed

    @Option(
        help: Self.overheadCallCounts.help(
            "Calls per overhead measurement", default: Self.defaultOverheadCalls, "0 skips it."),
        transform: Self.overheadCallCounts.parse)
    var overheadCalls = Self.defaultOverheadCalls

    @Option(
        help:
            "Comma-separated placers, none twice (default: all of \(Self.placerList)). After a name, in square brackets: the core placer it runs on, where `bench placers` names that one differently."
    )
    var only: String?

    /// The placers, each followed in square brackets by the core placer it runs on where that
    /// one's name (in `bench placers`) differs.
    static let placerList = PlacerKind.allCases.map { kind in
        guard let core = kind.coreAlgorithm, core.name != kind.rawValue else { return kind.rawValue }
        return "\(kind) [\(core)]"
    }.joined(separator: ", ")

    /// The most calls one simulated run may hold: each keeps its latency sample and its state
    /// while in flight, so this bounds a run's memory to a few GiB.
    static let maximumSimulatedCalls = 100_000_000.0

    func validate() throws {
        let counts = try runnerCounts()
        let loads = try utilisations()
        _ = try placers()
        // The busiest run: the most runners at the highest utilisation.
        if let n = counts.max(), let u = loads.max() {
            let workload = simulatedWorkload(runners: n, utilisation: u)
            let calls = workload.arrivalRate * workload.seconds
            guard calls <= Self.maximumSimulatedCalls else {
                throw ValidationError(
                    "--duration \(duration) with --runners \(n), --slots \(slots), --utilisation \(u) and "
                        + "--service-time \(serviceTime) simulates \(BenchReport.format(calls.rounded())) calls in one run; "
                        + "at most \(BenchReport.format(Self.maximumSimulatedCalls)) are allowed: lower --duration, --runners, --slots "
                        + "or --utilisation, or raise --service-time")
            }
        }
    }

    /// One simulated run of the options' workload.
    func simulatedWorkload(runners: Int, utilisation: Double) -> PlacementWorkload {
        PlacementWorkload(
            runners: runners, slots: slots, functions: functions, zipfExponent: zipf, utilisation: utilisation,
            meanServiceMilliseconds: Stopwatch.seconds(serviceTime.value) * 1e3,
            attemptMicroseconds: Stopwatch.seconds(attemptCost.value) * 1e6, seconds: Stopwatch.seconds(duration.value),
            seed: UInt64(seed))
    }

    func runnerCounts() throws(ValidationError) -> [Int] {
        let counts = try parseOption("--runners") { () throws(CommandLineValueError) in
            try CommaSeparatedList.integers(runners, in: Self.runnerRange)
        }
        return try distinctValues(counts, option: "--runners")
    }

    func utilisations() throws(ValidationError) -> [Double] {
        let loads = try parseOption("--utilisation") { () throws(CommandLineValueError) in
            try CommaSeparatedList.decimals(utilisation, in: Self.utilisationRange)
        }
        return try distinctValues(loads, option: "--utilisation").map(\.doubleValue)
    }

    func placers() throws(ValidationError) -> [PlacerKind] {
        guard let only else { return PlacerKind.allCases }
        let names = try parseOption("--only") { () throws(CommandLineValueError) in
            try CommaSeparatedList.names(only, from: PlacerKind.allCases.map(\.rawValue))
        }
        return try distinctValues(names, option: "--only").compactMap(PlacerKind.init(rawValue:))
    }

    func run() async throws {
        let kinds = try placers()
        var report = PlacementReport()
        if overheadCalls > 0 {
            report.overhead = try await PlacementOverhead.measureAll(kinds, calls: overheadCalls)
        }
        for n in try runnerCounts() {
            for u in try utilisations() {
                let workload = simulatedWorkload(runners: n, utilisation: u)
                for kind in kinds {
                    progress("simulate: \(kind), \(n) runners, utilisation \(u)")
                    report.simulations.append(try kind.simulate(workload, epsilon: epsilon))
                }
            }
        }
        switch output.format {
        case .table: print(PlacementTableReport.render(report))
        case .json: print(try JSONReport.render(report))
        case .html: print(PlacementHTMLReport.render(report))
        }
    }
}

/// Everything `beacon bench placement` measured.
struct PlacementReport: Codable, Sendable {
    var overhead: [PlacementOverhead] = []
    var simulations: [PlacementSimulationResult] = []
}
