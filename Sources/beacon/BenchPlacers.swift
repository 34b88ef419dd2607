import ArgumentParser
import BeaconCommandLine
import BeaconCore
import Foundation

struct BenchPlacers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "placers",
        abstract: "Compare every placer on the same keys: speed, allocations, balance, movement, memory."
    )

    @OptionGroup var output: ReportFormatOption

    static let memberRange = 3...1_000_000
    static let keyCounts = OptionValue.integer(in: 1024...100_000_000)
    static let repeatCounts = OptionValue.integer(in: 1...100)
    static let defaultKeys = 1_000_000
    static let defaultRepeats = 5

    @Option(help: "Comma-separated member counts, each in \(Self.memberRange), none twice.")
    var members: String = "10,100,1000,10000"

    @Option(
        help: Self.keyCounts.help(
            "Random 21-byte keys per measurement", default: Self.defaultKeys, "About 30 bytes of memory each."),
        transform: Self.keyCounts.parse)
    var keys = Self.defaultKeys

    @Option(
        help: Self.repeatCounts.help(
            "Timed repeats per figure", default: Self.defaultRepeats, "The median is reported."),
        transform: Self.repeatCounts.parse)
    var repeats = Self.defaultRepeats

    @Option(
        help:
            "Comma-separated placer names to run, none twice (default: all of \(Self.placerNames.joined(separator: ", ")))."
    )
    var only: String?

    @Flag(help: "Skip the two-thread scaling measurement.")
    var noParallel = false

    /// The placers the harness compares, in report order: every algorithm of the core. A placer
    /// added to the core's `PlacerAlgorithm` is added here, and the compiler then asks for its
    /// measurement in `measure`.
    static let placerNames = PlacerAlgorithm.allCases.map(\.name)

    func validate() throws {
        _ = try memberCounts()
        _ = try selectedPlacers()
    }

    func memberCounts() throws(ValidationError) -> [Int] {
        let counts = try parseOption("--members") { () throws(CommandLineValueError) in
            try CommaSeparatedList.integers(members, in: Self.memberRange)
        }
        return try distinctValues(counts, option: "--members")
    }

    func selectedPlacers() throws(ValidationError) -> Set<PlacerAlgorithm> {
        guard let only else { return Set(PlacerAlgorithm.allCases) }
        let names = try parseOption("--only") { () throws(CommandLineValueError) in
            try CommaSeparatedList.names(only, from: Self.placerNames)
        }
        _ = try distinctValues(names, option: "--only")
        return Set(names.compactMap(PlacerAlgorithm.init(name:)))
    }

    func run() throws {
        let selected = try selectedPlacers()
        let counting = AllocationCounter.isActive
        if !counting { progress("note: the malloc interposer is not active; allocation counts are omitted") }
        let bench = PlacerBenchmark(
            keys: BenchmarkKeys(count: keys), repeats: repeats, countAllocations: counting, parallel: !noParallel)
        let counts = try memberCounts()
        let hashNs = bench.hashNanoseconds()
        var results: [PlacerResult] = []
        let total = counts.count * selected.count
        for n in counts {
            for placer in PlacerAlgorithm.allCases where selected.contains(placer) {
                progress("[\(results.count + 1)/\(total)] \(placer.name), \(n) members")
                results.append(try measure(placer, members: n, bench: bench))
            }
        }
        let report = PlacerReport(
            placers: results, hashNsPerKey: hashNs, keyLength: 21, repeats: repeats, allocationCounting: counting)
        switch output.format {
        case .table: print(TableReport.render(report))
        case .json: print(try JSONReport.render(report))
        case .html: print(PlacerHTMLReport.render(report))
        }
    }

    func measure(_ placer: PlacerAlgorithm, members n: Int, bench: PlacerBenchmark) throws -> PlacerResult {
        let name = placer.name
        switch placer {
        case .boundedLoad:
            return try bench.measure(
                name, members: n, replicas: { try $0.replicas(forHash: $2, into: $1) },
                build: { try BoundedLoadTable(members: $0) })
        case .maglev:
            return try bench.measure(name, members: n) { try MaglevPlacer(members: $0) }
        case .jump:
            return try bench.measure(
                name, members: n, leaver: { $0[$0.count - 1].name }, build: { try JumpHashPlacer(members: $0) })
        case .ring:
            return try bench.measure(
                name, members: n, replicas: { try $0.replicas(forHash: $2, into: $1) },
                build: { try RingPlacer(members: $0) })
        case .rendezvous:
            return try bench.measure(
                name, members: n, linear: true, replicas: { try $0.replicas(forHash: $2, into: $1) },
                build: { try RendezvousPlacer(members: $0) })
        case .roundRobin:
            // Round robin ignores the key, so "keys moved" does not apply to it.
            return try bench.measure(name, members: n, keyConsistent: false) { try RoundRobinPlacer(members: $0) }
        case .boundedLoadRequests:
            let ringBytes = try RingPlacer(members: (0..<n).map { PlacementMember("node-\($0)") }).tableBytes
            return try bench.measureLoadAware(name, members: n, tableBytes: ringBytes + 8 * 4096) {
                try BoundedLoadBalancer(members: $0, capacity: max(4096, n))
            }
        case .powerOfTwo:
            return try bench.measureLoadAware(name, members: n, tableBytes: 8 * 4096) {
                try PowerOfTwoChoicesPlacer(members: $0, capacity: max(4096, n))
            }
        }
    }

}
