import ArgumentParser
import BeaconCommandLine
import BeaconCommandLineOptions
import BeaconCore
import BeaconMasterWorker
import BeaconMasterWorkerSQLite
import BenchmarkSupport
import Foundation

/// A real ``MasterRuntime`` in real time, fed by a driver that pings for many simulated workers
/// over the in-process transport and drains their pongs. A slice of workers falls silent a
/// quarter of the way in; the offline events' lateness is measured on the system clock. The
/// process's CPU is compared with the same driver against a bare echo loop (a mailbox that answers
/// each ping with a pong and nothing else), so the difference is what the master costs.
struct BenchMaster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master", abstract: "A real master runtime with many simulated workers, in real time.")

    /// Each simulated worker costs the master a wheel entry, a SQLite row and a pong topic:
    /// about 1.3 KB measured at 100 000 workers, so the largest run stays near 1.5 GB.
    static let workerCount = OptionValue.integer(in: 1...1_000_000)
    /// Offline detection needs 20 s of silence after a quarter of the run, so at least 30 s.
    static let durations = OptionValue.duration(in: .seconds(30)...(.seconds(86_400)))
    static let defaultWorkers = 100_000
    static let defaultDuration = DurationArgument(.seconds(40))

    @Option(
        help: Self.workerCount.help("Simulated workers", default: Self.defaultWorkers),
        transform: Self.workerCount.parse)
    var workers = BenchMaster.defaultWorkers

    @Option(
        help: Self.durations.help(
            "Length of each of the two runs (the echo baseline, then the master)", default: Self.defaultDuration),
        transform: Self.durations.parse)
    var duration = BenchMaster.defaultDuration

    @Option(
        help: BenchHeartbeats.percents.help(
            "Percent of workers that fall silent a quarter of the way in",
            default: BenchHeartbeats.defaultStoppedPercent),
        transform: BenchHeartbeats.percents.parse)
    var stoppedPercent = BenchHeartbeats.defaultStoppedPercent

    mutating func run() async throws {
        let ids = try (0..<workers).map { try WorkerID("job-1-task-\($0)") }
        let stopping = Set(ids.indices.filter { Double($0 % 10_000) < stoppedPercent * 100 })
        print(
            "workers \(workers), pings every 3 s, \(stopping.count) fall silent at \(DurationParser.format(duration.value / 4)); two runs of \(duration)"
        )
        let echo = try await Self.drive(ids: ids, stopping: stopping, duration: duration.value, master: false)
        let master = try await Self.drive(ids: ids, stopping: stopping, duration: duration.value, master: true)
        let extra = max(master.cpuSeconds - echo.cpuSeconds, 0)
        print(
            "echo loop (baseline): \(format(100 * echo.cpuSeconds / echo.wallSeconds))% of a core, \(echo.pongs) pongs")
        print(
            "master runtime:       \(format(100 * master.cpuSeconds / master.wallSeconds))% of a core, \(master.pongs) pongs"
        )
        print(
            "master's own cost:    \(format(100 * extra / master.wallSeconds))% of a core, \(format(extra * 1e9 / Double(max(master.pongs, 1)))) ns per ping"
        )
        let delays = master.delays.sorted()
        guard !delays.isEmpty else {
            print("no offline events (expected \(stopping.count))")
            return
        }
        func percentile(_ fraction: Double) -> String {
            delays.percentileOfSorted(fraction).map { format($0 * 1000) + " ms" } ?? "-"
        }
        print(
            "offline detections: \(delays.count)/\(stopping.count), false: \(master.falseOffline), late by p50 \(percentile(0.5)), p99 \(percentile(0.99)), max \(percentile(1))"
        )
    }

    struct Outcome {
        var cpuSeconds = 0.0
        var wallSeconds = 0.0
        var pongs = 0
        var delays: [Double] = []
        var falseOffline = 0
    }

    static func drive(ids: [WorkerID], stopping: Set<Int>, duration: Duration, master useMaster: Bool) async throws
        -> Outcome
    {
        let transport = InProcessTransport()
        let masterID = try MasterID("job-1")
        let masterNode = try ExecutorID("master-node")
        let driverNode = try ExecutorID("driver-node")
        let epoch = Epoch(rawValue: 2)
        // The master's deadlines and the offline events' arrival times on the same clock.
        let clock = MonotonicClock()
        var responder: Task<Void, Never>?
        let runtime: MasterRuntime?
        if useMaster {
            let store = try SQLiteMasterWorkerStore(path: ":memory:")
            let started = try await MasterRuntime.start(
                id: masterID, executor: masterNode, transport: transport, store: store, clock: clock,
                capacity: ids.count + 1)
            for id in ids { _ = try await started.createWorker(id, on: driverNode) }
            runtime = started
        } else {
            runtime = nil
            let pings = try transport.mailbox(
                on: masterNode, topics: [MasterWorkerTopic.ping(master: masterID)], capacity: 65_536)
            responder = Task {
                for await delivery in pings {
                    guard case .ping(let ping) = delivery.message else { continue }
                    let pong = HeartbeatPong(
                        sendTime: ping.sendTime, replyTime: ping.sendTime, toWorker: ping.fromWorker,
                        masterEpoch: epoch, isFinished: false)
                    _ = transport.trySend(
                        .pong(pong), topic: MasterWorkerTopic.pong(master: masterID, worker: ping.fromWorker),
                        from: masterNode, to: delivery.sender)
                }
            }
        }
        let masterEpoch = runtime?.epoch ?? epoch
        let workerEpochs = workerEpochs(runtime, ids: ids, fallback: epoch)
        let pongs = try transport.mailbox(
            on: driverNode, topics: ids.map { MasterWorkerTopic.pong(master: masterID, worker: $0) }, capacity: 1 << 20)
        let pongCounter = Task { () -> Int in
            var count = 0
            for await _ in pongs { count += 1 }
            return count
        }
        let start = clock.now
        let stopAt = start.advanced(by: duration / 4)
        let end = start.advanced(by: duration)
        let interval: UInt64 = 3_000_000_000
        // Offline events, with the instant each arrived.
        let offlineLog = Task { () -> [(WorkerID, BeaconInstant)] in
            var log: [(WorkerID, BeaconInstant)] = []
            guard let runtime else { return log }
            for await event in runtime.events {
                if case .offline(let worker, _) = event { log.append((worker, clock.now)) }
            }
            return log
        }
        let cpuBefore = ProcessCPU.seconds()
        var lastPing = [UInt64](repeating: 0, count: ids.count)
        var sent = 0
        // Worker i pings at start + phase(i) + k · 3 s; the loop wakes every millisecond.
        while clock.now < end {
            let now = clock.now
            let elapsed = now.nanoseconds - start.nanoseconds
            while true {
                let index = sent % ids.count
                let due = UInt64(sent / ids.count) * interval + UInt64(index) * interval / UInt64(ids.count)
                guard due <= elapsed else { break }
                sent += 1
                if stopping.contains(index) && now >= stopAt { continue }
                let ping = HeartbeatPing(
                    sendTime: now, fromWorker: ids[index], masterEpoch: masterEpoch, workerEpoch: workerEpochs[index],
                    isFinished: false)
                if transport.trySend(
                    .ping(ping), topic: MasterWorkerTopic.ping(master: masterID), from: driverNode, to: masterNode)
                {
                    lastPing[index] = now.nanoseconds
                }
            }
            try await clock.sleep(for: .milliseconds(1))
        }
        let wall = Double(clock.now.nanoseconds - start.nanoseconds) / 1e9
        let cpu = ProcessCPU.seconds() - cpuBefore
        runtime?.stop()
        responder?.cancel()
        transport.disconnect(driverNode)
        transport.disconnect(masterNode)
        var outcome = Outcome(cpuSeconds: cpu, wallSeconds: wall, pongs: await pongCounter.value)
        let index = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        for (worker, time) in await offlineLog.value {
            let position = index[worker]!
            guard stopping.contains(position) else {
                outcome.falseOffline += 1
                continue
            }
            let deadline = lastPing[position] + 20_000_000_000
            outcome.delays.append((Double(time.nanoseconds) - Double(deadline)) / 1e9)
        }
        return outcome
    }

    /// The epoch each worker was created with (the master draws them), or `fallback` without one.
    static func workerEpochs(_ runtime: MasterRuntime?, ids: [WorkerID], fallback: Epoch) -> [Epoch] {
        guard let runtime else { return Array(repeating: fallback, count: ids.count) }
        let workers = runtime.workers
        return ids.map { workers[$0]?.status.epoch ?? fallback }
    }
}
