import ArgumentParser
import BeaconCommandLine
import BeaconCore
import BeaconPlacement
import BeaconSimulation
import Foundation

struct BenchPlacement: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "placement",
        abstract: "Compare Fn's call placers and Beacon's: overhead per call, and a simulated runner pool with NACKs."
    )

    @OptionGroup var output: ReportFormatOption

    @Option(help: "Comma-separated runner counts (10...1000).")
    var runners: String = "10,100"

    @Option(help: "Comma-separated utilisations, each in (0, 1.5].")
    var utilisation: String = "0.5,0.8,0.95"

    @Option(help: "Concurrent calls per runner before it NACKs.")
    var slots: Int = 8

    @Option(help: "Distinct functions.")
    var functions: Int = 10_000

    @Option(help: "Zipf exponent of function popularity.")
    var zipf: Double = 0.9

    @Option(help: "Mean call run time in milliseconds.")
    var serviceMs: Double = 100

    @Option(help: "Cost of one attempt (accepted or refused) in microseconds.")
    var attemptUs: Double = 200

    @Option(help: "Simulated seconds per run (the first tenth is warm-up).")
    var seconds: Double = 30

    @Option(help: "Load factor ε of the bounded-load placer.")
    var epsilon: Double = 0.1

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "Calls per overhead measurement (0 skips it).")
    var overheadCalls: Int = 1_000_000

    @Option(help: "Comma-separated placers (default: all of \(PlacerKind.allCases.map(\.rawValue).joined(separator: ", "))).")
    var only: String?

    func validate() throws {
        _ = try runnerCounts()
        _ = try utilisations()
        _ = try placers()
        guard (1...10_000).contains(slots) else { throw ValidationError("--slots must be in 1...10000") }
        guard (1...10_000_000).contains(functions) else { throw ValidationError("--functions must be in 1...10000000") }
        guard zipf.isFinite, zipf >= 0, zipf <= 5 else { throw ValidationError("--zipf must be in 0...5") }
        guard serviceMs.isFinite, serviceMs > 0 else { throw ValidationError("--service-ms must be positive") }
        guard attemptUs.isFinite, attemptUs >= 0 else { throw ValidationError("--attempt-us must not be negative") }
        guard seconds.isFinite, seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be in (0, 3600]") }
        guard epsilon.isFinite, epsilon > 0 else { throw ValidationError("--epsilon must be positive") }
        guard overheadCalls >= 0 else { throw ValidationError("--overhead-calls must not be negative") }
    }

    func runnerCounts() throws(ValidationError) -> [Int] {
        try parseOption("--runners") { () throws(CommandLineValueError) in try CommaSeparatedList.integers(runners, in: 1...1000) }
    }

    func utilisations() throws(ValidationError) -> [Double] {
        let range = DecimalRange(above: FixedDecimal(millionths: 0), through: FixedDecimal(millionths: 1_500_000))
        return try parseOption("--utilisation") { () throws(CommandLineValueError) in
            try CommaSeparatedList.decimals(utilisation, in: range).map(\.doubleValue)
        }
    }

    func placers() throws(ValidationError) -> [PlacerKind] {
        guard let only else { return PlacerKind.allCases }
        let names = try parseOption("--only") { () throws(CommandLineValueError) in
            try CommaSeparatedList.names(only, from: PlacerKind.allCases.map(\.rawValue))
        }
        return names.compactMap(PlacerKind.init(rawValue:))
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
