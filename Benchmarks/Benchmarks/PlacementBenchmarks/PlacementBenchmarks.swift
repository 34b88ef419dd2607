import BeaconCore
import Benchmark

/// Placer suites at N ∈ {10, 100, 1 000, 10 000}: lookup time, allocations per lookup (gated at
/// zero), rebuild on a membership change, and table memory. Run from `Benchmarks/`:
/// `swift package benchmark`; `swift package benchmark thresholds check --filter ".*Allocations.*"` gates the allocation
/// counts against `Thresholds/`.
let benchmarks: @Sendable () -> Void = {
    let lookupsPerIteration = 1000
    let keys: [UInt64] = {
        var state: UInt64 = 0x5EED
        return (0..<lookupsPerIteration).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            return XXHash64.hash(state)
        }
    }()
    let timing = Benchmark.Configuration(
        metrics: [.wallClock, .throughput], scalingFactor: .kilo, maxDuration: .milliseconds(500), maxIterations: 10_000)
    let zeroAllocations = Benchmark.Configuration(
        metrics: [.mallocCountTotal], scalingFactor: .kilo, maxDuration: .milliseconds(200), maxIterations: 200,
        thresholds: [.mallocCountTotal: .init(absolute: [.p0: 0, .p50: 0, .p100: 0])])
    let rebuild = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], maxDuration: .milliseconds(500), maxIterations: 50)
    let memory = Benchmark.Configuration(
        metrics: [.custom("tableBytes", polarity: .prefersSmaller, useScalingFactor: false)], maxIterations: 1)

    func suite<P: Placer>(_ name: String, _ sizes: [Int], build: @escaping @Sendable ([PlacementMember]) throws -> P) {
        for n in sizes {
            let group = (0..<n).map { PlacementMember("node-\($0)") }
            Benchmark("Lookup_\(name)_\(n)", configuration: timing) { benchmark in
                let placer = try build(group)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    for key in keys { blackHole(try placer.memberIndex(forHash: key)) }
                }
            }
            Benchmark("LookupAllocations_\(name)_\(n)", configuration: zeroAllocations) { benchmark in
                let placer = try build(group)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    for key in keys { blackHole(try placer.memberIndex(forHash: key)) }
                }
            }
            Benchmark("Rebuild_\(name)_\(n)", configuration: rebuild) { benchmark in
                let placer = try build(group)
                benchmark.startMeasurement()
                blackHole(try placer.adding(PlacementMember("node-new")))
            }
            Benchmark("Memory_\(name)_\(n)", configuration: memory) { benchmark in
                benchmark.measurement(.custom("tableBytes", polarity: .prefersSmaller, useScalingFactor: false), try build(group).tableBytes)
            }
        }
    }

    /// Replica sets of 3 write into the caller's buffer: no allocation either.
    func replicaAllocations<P: ReplicaPlacer>(_ name: String, _ n: Int, build: @escaping @Sendable () throws -> P) {
        Benchmark("ReplicaAllocations_\(name)_\(n)", configuration: zeroAllocations) { benchmark in
            let placer = try build()
            let buffer = UnsafeMutableBufferPointer<Int>.allocate(capacity: 3)
            defer { buffer.deallocate() }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for key in keys { try placer.replicas(forHash: key, into: buffer) }
            }
            blackHole(buffer[0])
        }
    }

    let sizes = [10, 100, 1000, 10_000]
    suite("bounded-load", sizes) { try BoundedLoadTable(members: $0) }
    suite("maglev", sizes) { try MaglevPlacer(members: $0) }
    suite("jump", sizes) { try JumpHashPlacer(members: $0) }
    suite("ring", sizes) { try RingPlacer(members: $0) }
    suite("rendezvous", [10, 100, 1000]) { try RendezvousPlacer(members: $0) }

    for n in [10, 1000] {
        let group = (0..<n).map { PlacementMember("node-\($0)") }
        replicaAllocations("bounded-load", n) { try BoundedLoadTable(members: group) }
        replicaAllocations("ring", n) { try RingPlacer(members: group) }
        Benchmark("AcquireRelease_bounded-load-requests_\(n)", configuration: timing) { benchmark in
            let balancer = try BoundedLoadBalancer(members: group)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for key in keys { try balancer.release(balancer.acquire(forHash: key)) }
            }
        }
        Benchmark("AcquireReleaseAllocations_bounded-load-requests_\(n)", configuration: zeroAllocations) { benchmark in
            let balancer = try BoundedLoadBalancer(members: group)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for key in keys { try balancer.release(balancer.acquire(forHash: key)) }
            }
        }
        Benchmark("SharedReaderAllocations_bounded-load_\(n)", configuration: zeroAllocations) { benchmark in
            let shared = SharedPlacer(try BoundedLoadTable(members: group))
            var reader = shared.makeReader()
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for key in keys { blackHole(try reader.memberIndex(forHash: key)) }
            }
        }
    }
}
