import ArgumentParser
import BeaconCommandLine
import BeaconCommandLineOptions
import BeaconCore
import BeaconMasterWorker
import BeaconMasterWorkerSQLite
import BeaconReports
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
    static let roundCounts = OptionValue.integer(in: 1...20)
    static let defaultWorkers = 100_000
    static let defaultDuration = DurationArgument(.seconds(30))
    static let defaultRounds = 3

    @Option(
        help: Self.workerCount.help("Simulated workers", default: Self.defaultWorkers),
        transform: Self.workerCount.parse)
    var workers = BenchMaster.defaultWorkers

    @Option(
        help: Self.durations.help(
            "Length of each run (the echo baseline, then the master)", default: Self.defaultDuration),
        transform: Self.durations.parse)
    var duration = BenchMaster.defaultDuration

    @Option(
        help: BenchHeartbeats.percents.help(
            "Percent of workers that fall silent a quarter of the way in",
            default: BenchHeartbeats.defaultStoppedPercent),
        transform: BenchHeartbeats.percents.parse)
    var stoppedPercent = BenchHeartbeats.defaultStoppedPercent

    @Option(
        help: Self.roundCounts.help(
            "Rounds of the two runs, back to back; the median round's difference is the master's cost",
            default: Self.defaultRounds),
        transform: Self.roundCounts.parse)
    var rounds = BenchMaster.defaultRounds

    mutating func run() async throws {
        let ids = try (0..<workers).map { try WorkerID("job-1-task-\($0)") }
        let stopping = Set(ids.indices.filter { Double($0 % 10_000) < stoppedPercent * 100 })
        print(
            "workers \(workers), pings every 3 s, \(stopping.count) fall silent at \(DurationParser.format(duration.value / 4)); \(rounds) × (echo, master) runs of \(duration)"
        )
        var echoRuns: [Outcome] = []
        var masterRuns: [Outcome] = []
        for round in 1...rounds {
            let echo = try await Self.drive(ids: ids, stopping: stopping, duration: duration.value, master: false)
            let master = try await Self.drive(ids: ids, stopping: stopping, duration: duration.value, master: true)
            echoRuns.append(echo)
            masterRuns.append(master)
            print(
                "round \(round): echo loop \(format(echo.cpuPercent))% of a core, master runtime \(format(master.cpuPercent))%, \(master.pongs) pongs; "
                    + master.detectionSummary(expected: stopping.count))
        }
        // Each round's runs go back to back, so their difference shares that stretch's noise; the
        // median of the differences is the master's cost.
        let differences = zip(echoRuns, masterRuns).map { echo, master in
            (percent: master.cpuPercent - echo.cpuPercent, pongs: Double(master.pongs), seconds: master.wallSeconds)
        }.sorted { $0.percent < $1.percent }
        let median = differences[differences.count / 2]
        let ownPercent = max(median.percent, 0)
        let ownNanosPerPing = ownPercent / 100 * 1e9 * median.seconds / max(median.pongs, 1)
        let stateMachine = try Self.stateMachineNanosPerPing(workers: workers)
        print("the manager alone (virtual time, as bench heartbeats): \(format(stateMachine)) ns per ping")
        var targets = BenchReport.Section(title: "targets (issue 23), the median round")
        targets.add("master's own cost", ownPercent, "% of a core", atMost: 5)
        targets.add("master's own cost per ping", ownNanosPerPing, "ns")
        // At a few workers the manager's CPU can vanish into its harness's noise: no ratio then.
        if stateMachine > 0 { targets.add("  ÷ the manager alone", ownNanosPerPing / stateMachine, "×", atMost: 2) }
        for line in targets.textLines(nameWidth: 28) { print(line) }
        if stateMachine <= 0 {
            print(
                "  ÷ the manager alone: not measurable, the manager alone cost nothing above its harness; use more --workers"
            )
        }
    }

    /// What ``WorkerManager`` alone spends per ping on `workers` workers pinging every 3 s for
    /// 60 virtual seconds, less what building the pings costs.
    static func stateMachineNanosPerPing(workers: Int) throws -> Double {
        let configuration = TimeoutConfiguration.default
        let schedule = try PingSchedule(
            workers: workers, duration: .seconds(60), interval: configuration.heartbeatInterval,
            stoppedFraction: 0.01, seed: 1)
        let harness = try HarnessOnlyRun(schedule: schedule).measure()
        let manager = try WheelManagerRun(schedule: schedule, configuration: configuration).measure()
        return max(manager.cpuSeconds - harness.cpuSeconds, 0) * 1e9 / Double(schedule.pings.count)
    }

    struct Outcome {
        var cpuSeconds = 0.0
        var wallSeconds = 0.0
        var pongs = 0
        var delays: [Double] = []
        var falseOffline = 0

        var cpuPercent: Double { 100 * cpuSeconds / wallSeconds }

        /// How many silent workers went offline and how late, or nothing for the echo loop.
        func detectionSummary(expected: Int) -> String {
            let delays = delays.sorted()
            func percentile(_ fraction: Double) -> String {
                delays.percentileOfSorted(fraction).map { format($0 * 1000) + " ms" } ?? "-"
            }
            return
                "offline \(delays.count)/\(expected), false \(falseOffline), late by p50 \(percentile(0.5)), p99 \(percentile(0.99)), max \(percentile(1))"
        }
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
                while let batch = await pings.nextBatch() {
                    let now = clock.now
                    for delivery in batch {
                        guard case .ping(let ping) = delivery.message else { continue }
                        let pong = HeartbeatPong(answering: ping, masterEpoch: epoch, at: now)
                        _ = transport.trySend(
                            .pong(pong), topic: MasterWorkerTopic.pong(master: masterID, worker: ping.fromWorker),
                            from: masterNode, to: delivery.sender)
                    }
                }
                pings.close()
            }
        }
        let masterEpoch = runtime?.epoch ?? epoch
        let workerEpochs = workerEpochs(runtime, ids: ids, fallback: epoch)
        let pongs = try transport.mailbox(
            on: driverNode, topics: ids.map { MasterWorkerTopic.pong(master: masterID, worker: $0) }, capacity: 1 << 20)
        let pongCounter = Task { () -> Int in
            var count = 0
            while let batch = await pongs.nextBatch() { count += batch.count }
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
