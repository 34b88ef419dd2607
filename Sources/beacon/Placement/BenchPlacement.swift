import ArgumentParser
import BeaconCommandLine
import BeaconCore
import BeaconPlacement
import BeaconReports
import BeaconSimulation
import Foundation

struct BenchPlacement: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "placement",
        abstract: "Compare Fn's call placers and Beacon's: overhead per call, and a simulated runner pool with NACKs."
    )

    @OptionGroup var output: ReportFormatOption

    @Option(help: "Comma-separated runner counts, each in 10...1000, none twice.")
    var runners: String = "10,100"

    @Option(help: "Comma-separated utilisations, each in (0, 1.5], none twice.")
    var utilisation: String = "0.5,0.8,0.95"

    @Option(
        help: "Concurrent calls per runner before it NACKs, in 1...10000.",
        transform: OptionValue.integer(in: 1...10_000))
    var slots: Int = 8

    @Option(help: "Distinct functions, in 1...10000000.", transform: OptionValue.integer(in: 1...10_000_000))
    var functions: Int = 10_000

    @Option(
        help: "Zipf exponent of function popularity, in [0, 5].",
        transform: OptionValue.decimal(in: BenchOptionValue.range(from: 0, through: 5)))
    var zipf: Double = 0.9

    @Option(
        help: "Mean call run time in milliseconds, in (0, 3600000].",
        transform: OptionValue.decimal(in: BenchOptionValue.range(above: 0, through: 3_600_000)))
    var serviceMs: Double = 100

    @Option(
        help: "Cost of one attempt (accepted or refused) in microseconds, in [0, 1000000].",
        transform: OptionValue.decimal(in: BenchOptionValue.range(from: 0, through: 1_000_000)))
    var attemptUs: Double = 200

    @Option(
        help: "Simulated seconds per run, in (0, 3600] (the first tenth is warm-up).",
        transform: OptionValue.decimal(in: BenchOptionValue.range(above: 0, through: 3600)))
    var seconds: Double = 30

    @Option(
        help: "Load factor ε of the bounded-load placer, in (0, 10].",
        transform: OptionValue.decimal(in: BenchOptionValue.range(above: 0, through: 10)))
    var epsilon: Double = 0.1

    @Option(help: "Random seed, a whole number in 0...\(UInt64.max).", transform: { try BenchOptionValue.seed($0) })
    var seed: UInt64 = 1

    @Option(
        help: "Calls per overhead measurement, in 0...100000000 (0 skips it).",
        transform: OptionValue.integer(in: 0...100_000_000))
    var overheadCalls: Int = 1_000_000

    @Option(help: "Comma-separated placers, none twice (default: all of \(PlacerKind.allCases.map(\.rawValue).joined(separator: ", "))).")
    var only: String?

    /// The most calls one simulated run may hold: each keeps its latency sample and its state
    /// while in flight, so this bounds a run's memory to a few GiB.
    static let maximumSimulatedCalls = 100_000_000.0

    func validate() throws {
        let counts = try runnerCounts()
        let loads = try utilisations()
        _ = try placers()
        // The busiest run: the most runners at the highest utilisation.
        if let n = counts.max(), let u = loads.max() {
            let workload = PlacementWorkload(
                runners: n, slots: slots, functions: functions, zipfExponent: zipf, utilisation: u,
                meanServiceMilliseconds: serviceMs, attemptMicroseconds: attemptUs, seconds: seconds, seed: seed)
            let calls = workload.arrivalRate * seconds
            guard calls <= Self.maximumSimulatedCalls else {
                throw ValidationError(
                    "--seconds \(BenchReport.format(seconds)) with --runners \(n), --slots \(slots), --utilisation \(u) and "
                        + "--service-ms \(BenchReport.format(serviceMs)) simulates \(BenchReport.format(calls.rounded())) calls in one run; "
                        + "at most \(BenchReport.format(Self.maximumSimulatedCalls)) are allowed: lower --seconds, --runners, --slots "
                        + "or --utilisation, or raise --service-ms")
            }
        }
    }

    func runnerCounts() throws(ValidationError) -> [Int] {
        let counts = try parseOption("--runners") { () throws(CommandLineValueError) in
            try CommaSeparatedList.integers(runners, in: 10...1000)
        }
        return try BenchOptionValue.distinct(counts, option: "--runners")
    }

    func utilisations() throws(ValidationError) -> [Double] {
        let loads = try parseOption("--utilisation") { () throws(CommandLineValueError) in
            try CommaSeparatedList.decimals(utilisation, in: BenchOptionValue.range(above: 0, through: 1.5))
        }
        return try BenchOptionValue.distinct(loads, option: "--utilisation").map(\.doubleValue)
    }

    func placers() throws(ValidationError) -> [PlacerKind] {
        guard let only else { return PlacerKind.allCases }
        let names = try parseOption("--only") { () throws(CommandLineValueError) in
            try CommaSeparatedList.names(only, from: PlacerKind.allCases.map(\.rawValue))
        }
        return try BenchOptionValue.distinct(names, option: "--only").compactMap(PlacerKind.init(rawValue:))
    }

    func run() async throws {
        let kinds = try placers()
        var report = PlacementReport()
        if overheadCalls > 0 {
            report.overhead = try await PlacementOverhead.measureAll(kinds, calls: overheadCalls)
        }
        for n in try runnerCounts() {
            for u in try utilisations() {
                let workload = PlacementWorkload(
                    runners: n, slots: slots, functions: functions, zipfExponent: zipf, utilisation: u,
                    meanServiceMilliseconds: serviceMs, attemptMicroseconds: attemptUs, seconds: seconds, seed: seed)
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
