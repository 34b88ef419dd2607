import BeaconClient
import Benchmark
import Dispatch
import Synchronization

/// `ServerManager.find()` while another thread keeps adding, removing and rotating servers,
/// against a baseline measured in the same run: the same list behind a mutex. `notifyFailed` at
/// 100 servers. The allocation gate runs `find` alone: the malloc interposer counts every
/// thread's allocations, and the churning writer allocates a new list for each change. Run from
/// `Benchmarks/`: `swift package benchmark --target ClientBenchmarks`.
let benchmarks: @Sendable () -> Void = {
    let timing = Benchmark.Configuration(metrics: [.wallClock, .throughput], maxDuration: .seconds(2), maxIterations: 30)
    let zeroAllocations = Benchmark.Configuration(
        metrics: [.mallocCountTotal], maxDuration: .milliseconds(500), maxIterations: 10,
        thresholds: [.mallocCountTotal: .init(absolute: [.p0: 0, .p50: 0, .p100: 0])])

    Benchmark(
        "Find_100_whileChurning", configuration: timing,
        closure: { benchmark in
            let fixture = Fixture.current!
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { fixture.findAll() }
        },
        setup: { Fixture.current = Fixture(churning: true) },
        teardown: { Fixture.current?.stop() })
    Benchmark(
        "FindMutexBaseline_100_whileChurning", configuration: timing,
        closure: { benchmark in
            let fixture = Fixture.current!
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { fixture.findAllLocked() }
        },
        setup: { Fixture.current = Fixture(churning: true) },
        teardown: { Fixture.current?.stop() })
    Benchmark(
        "FindAllocations_100", configuration: zeroAllocations,
        closure: { benchmark in
            let fixture = Fixture.current!
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { fixture.findAll() }
        },
        setup: { Fixture.current = Fixture(churning: false) },
        teardown: { Fixture.current?.stop() })
    Benchmark(
        "NotifyFailed_100", configuration: timing,
        closure: { benchmark in
            let fixture = Fixture.current!
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { fixture.failFronts() }
        },
        setup: { Fixture.current = Fixture(churning: false) },
        teardown: { Fixture.current?.stop() })
}

private let callsPerIteration = 1_000_000
private let notificationsPerIteration = 10_000

struct NoPinger: Pinger {
    func ping(_ server: ManagedServer) async -> Bool { true }
}

struct SmallCluster: ClusterInfo {
    var nodeCount: Int { 1_000 }
}

/// 100 servers in a manager and, for the baseline, in a mutex-guarded array; optionally a
/// writer thread that changes both without pause.
final class Fixture: Sendable {
    let manager = ServerManager(pinger: NoPinger(), cluster: SmallCluster())
    let locked: Mutex<[ManagedServer]>
    let servers: [ManagedServer]
    private let stopping = Atomic<Bool>(false)
    private let writerDone = DispatchSemaphore(value: 0)
    private let churning: Bool

    init(churning: Bool) {
        servers = (0 ..< 100).map { try! ManagedServer(name: "server-\($0)", address: "10.0.\($0 / 256).\($0 % 256):8300") }
        for server in servers { manager.add(server) }
        locked = Mutex(servers)
        self.churning = churning
        guard churning else { return }
        DispatchQueue.global().async { [self] in
            var round = 0
            while !stopping.load(ordering: .relaxed) {
                let extra = try! ManagedServer(name: "extra-\(round % 8)", address: "10.1.0.1:8300")
                manager.add(extra)
                if let front = manager.find() { manager.notifyFailed(front) }
                manager.remove(named: "extra-\((round + 4) % 8)")
                locked.withLock { list in
                    list.append(extra)
                    list.append(list.removeFirst())
                    list.removeAll { $0.name == "extra-\((round + 4) % 8)" }
                }
                round += 1
            }
            writerDone.signal()
        }
    }

    nonisolated(unsafe) static var current: Fixture?

    func findAll() {
        for _ in 0 ..< callsPerIteration { blackHole(manager.find()) }
    }

    func findAllLocked() {
        for _ in 0 ..< callsPerIteration { blackHole(locked.withLock { $0.first }) }
    }

    func failFronts() {
        for _ in 0 ..< notificationsPerIteration {
            if let front = manager.find() { manager.notifyFailed(front) }
        }
    }

    func stop() {
        guard churning else { return }
        stopping.store(true, ordering: .relaxed)
        writerDone.wait()
    }
}
