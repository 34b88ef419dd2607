import BeaconCore
import BeaconPlacement
import Benchmark

/// What `placeCall` adds to a call when the first runner accepts at once, for each placer,
/// against a baseline measured in the same run: the runner's `tryExec` called directly. The
/// allocation benchmarks gate 10 000 placements at two mallocs or fewer: a placement itself
/// allocates nothing, but its async frame is larger than the task allocator's first slab, so the
/// runtime mallocs a slab once per benchmark iteration (the direct call, with a small frame,
/// needs none). Run from `Benchmarks/`:
/// `swift package benchmark --target CallPlacementBenchmarks`.
let benchmarks: @Sendable () -> Void = {
    let timing = Benchmark.Configuration(metrics: [.wallClock, .throughput], maxDuration: .seconds(2), maxIterations: 30)
    let zeroAllocations = Benchmark.Configuration(
        metrics: [.mallocCountTotal], maxDuration: .milliseconds(500), maxIterations: 10,
        thresholds: [.mallocCountTotal: .init(absolute: [.p0: 0, .p50: 0, .p100: 0])])
    let slabOnly = Benchmark.Configuration(
        metrics: [.mallocCountTotal], maxDuration: .milliseconds(500), maxIterations: 10,
        thresholds: [.mallocCountTotal: .init(absolute: [.p100: 2])])
    let call = PlainCall(CallModel(id: "call-7", functionID: "function-7"))
    let runners: [any Runner] = (0..<10).map { AcceptingRunner(address: "runner-\($0)") }
    let pool = FixedPool(list: runners)

    Benchmark("DirectTryExec_10", configuration: timing) { benchmark in
        for _ in benchmark.scaledIterations {
            for _ in 0..<callsPerIteration { blackHole(try await runners[3].tryExec(call, deadline: nil)) }
        }
    }
    Benchmark("DirectTryExecAllocations_10", configuration: zeroAllocations) { benchmark in
        for _ in benchmark.scaledIterations {
            for _ in 0..<callsPerIteration { blackHole(try await runners[3].tryExec(call, deadline: nil)) }
        }
    }
    func register<Order: PlacementOrder>(_ name: String, _ placer: CallPlacer<Order>) {
        Benchmark("PlaceCall_\(name)_10", configuration: timing) { benchmark in
            for _ in benchmark.scaledIterations {
                for _ in 0..<callsPerIteration { try await placer.placeCall(call, on: pool) }
            }
        }
        Benchmark("PlaceCallAllocations_\(name)_10", configuration: slabOnly) { benchmark in
            for _ in benchmark.scaledIterations {
                for _ in 0..<callsPerIteration { try await placer.placeCall(call, on: pool) }
            }
        }
    }
    register("naive", CallPlacer.naive())
    register("ch", CallPlacer.consistentHash())
    register("bounded-load", try! CallPlacer.boundedLoad())
    register("power-of-two", CallPlacer.powerOfTwo())
}

private let callsPerIteration = 10_000

/// A runner that takes every call and finishes it at once.
final class AcceptingRunner: Runner {
    let address: String

    init(address: String) { self.address = address }

    nonisolated(nonsending) func tryExec<Call: RunnerCall>(_ call: Call, deadline: BeaconInstant?) async throws -> Bool {
        true
    }

    func status() async throws -> RunnerStatus { RunnerStatus() }
    func close() async throws {}
}

/// The same runner array on every fetch.
struct FixedPool: RunnerPool {
    let list: [any Runner]

    nonisolated(nonsending) func runners<Call: RunnerCall>(for call: Call) async throws -> [any Runner] { list }
    func shutdown() async throws {}
}
