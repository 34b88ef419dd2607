import BeaconPlacement
import BeaconSimulation
import BenchmarkSupport

/// Time and allocations of `placeCall` when the first runner accepts at once, against calling the
/// runner's `tryExec` directly: what the placer adds to every call.
struct PlacementOverhead: Codable, Sendable {
    var placer: String
    var nanosecondsPerCall: Double
    var directNanosecondsPerCall: Double
    var mallocsPerCall: Double?

    var overheadNanoseconds: Double { nanosecondsPerCall - directNanosecondsPerCall }

    /// Measures each kind through its concrete type (the placement loop specialised into this
    /// module, as in a service that picks its placer at compile time), and naive once more through
    /// `any RunnerPlacer` (a placer chosen at run time).
    static func measureAll(_ kinds: [PlacerKind], calls: Int) async throws -> [PlacementOverhead] {
        var results: [PlacementOverhead] = []
        for kind in kinds {
            progress("overhead: \(kind)")
            switch kind {
            case .naive: results.append(try await measure(kind.rawValue, CallPlacer.naive(), calls: calls))
            case .consistentHash:
                results.append(try await measure(kind.rawValue, CallPlacer.consistentHash(), calls: calls))
            case .consistentHashFnCompatible:
                results.append(
                    try await measure(kind.rawValue, CallPlacer.consistentHash(mode: .fnCompatible), calls: calls))
            case .boundedLoad:
                results.append(try await measure(kind.rawValue, try CallPlacer.boundedLoad(), calls: calls))
            case .powerOfTwo: results.append(try await measure(kind.rawValue, CallPlacer.powerOfTwo(), calls: calls))
            }
        }
        if kinds.contains(.naive) {
            let erased: any RunnerPlacer = CallPlacer.naive()
            results.append(try await measure("naive (any RunnerPlacer)", erased, calls: calls))
        }
        return results
    }

    static func measure<Placer: RunnerPlacer>(_ name: String, _ placer: Placer, calls: Int, repeats: Int = 5)
        async throws
        -> PlacementOverhead
    {
        let list: [any Runner] = (0..<10).map { SimulatedRunner(address: "runner-\($0)", slots: .max) }
        let pool = StaticRunnerPool(list: list)
        let call = PlainCall(CallModel(id: "call-7", functionID: "function-7"))
        var placed: [Double] = []
        var direct: [Double] = []
        for _ in 0..<repeats {
            placed.append(
                try await Stopwatch.asyncNanoseconds {
                    for _ in 0..<calls { try await placer.placeCall(call, on: pool) }
                } / Double(calls))
            direct.append(
                try await Stopwatch.asyncNanoseconds {
                    for _ in 0..<calls { _ = try await list[3].tryExec(call, deadline: nil) }
                } / Double(calls))
        }
        let mallocs = try await AllocationCounter.asyncCount {
            for _ in 0..<calls { try await placer.placeCall(call, on: pool) }
        }
        return PlacementOverhead(
            placer: name,
            nanosecondsPerCall: placed.sorted().percentileOfSorted(0.5)!,
            directNanosecondsPerCall: direct.sorted().percentileOfSorted(0.5)!,
            mallocsPerCall: AllocationCounter.isActive ? Double(mallocs) / Double(calls) : nil
        )
    }
}
