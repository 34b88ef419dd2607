import ArgumentParser
import BeaconCommandLine
import BeaconCommandLineOptions
import BeaconCore
import BeaconMasterWorker
import BenchmarkSupport

/// One master, many workers, in virtual time: every worker pings on its own phase, a slice of
/// them stops half-way, and the master's CPU per virtual second and its offline-detection delay
/// are measured. The same ping schedule runs three times: through the bare harness (its cost is
/// subtracted), through ``WorkerManager`` (deadlines on the heartbeat wheel), and through a
/// TiFlow-style manager that scans every worker once a second.
struct BenchHeartbeats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heartbeats",
        abstract: "CPU and offline-detection delay of one master with many workers (virtual time).",
        discussion: """
            Every worker pings every 3 s of virtual time, so a run simulates --workers × --duration / 3s pings; \
            they are held in memory (16 bytes each, plus about 650 bytes per worker), so at most \
            \(BenchHeartbeats.maximumPings) are allowed.
            """)

    /// About 650 bytes per worker (its ID, the manager's entry, the indexes) on top of the pings.
    static let workerCount = OptionValue.integer(in: 1...10_000_000)
    static let durations = OptionValue.duration(in: .seconds(1)...(.seconds(86_400)))
    /// 16 bytes per ping and the sort's scratch half again: about 5 GB at the limit.
    static let maximumPings = 200_000_000
    static let percents = OptionValue.decimal(in: DecimalRange(from: 0, through: 100))
    static let seeds = OptionValue.integer(in: 0...Int.max)
    static let defaultWorkers = 100_000
    static let defaultDuration = DurationArgument(.seconds(60))
    static let defaultStoppedPercent = 1.0
    static let defaultSeed = 1

    @Option(
        help: Self.workerCount.help("Workers under the master", default: Self.defaultWorkers),
        transform: Self.workerCount.parse)
    var workers = BenchHeartbeats.defaultWorkers

    @Option(
        help: Self.durations.help("Virtual time to simulate", default: Self.defaultDuration),
        transform: Self.durations.parse)
    var duration = BenchHeartbeats.defaultDuration

    @Option(
        help: Self.percents.help(
            "Percent of workers that stop pinging at a third of the run", default: Self.defaultStoppedPercent),
        transform: Self.percents.parse)
    var stoppedPercent = BenchHeartbeats.defaultStoppedPercent

    @Option(
        help: Self.seeds.help("Seed of the ping phases and of which workers stop", default: Self.defaultSeed),
        transform: Self.seeds.parse)
    var seed = BenchHeartbeats.defaultSeed

    func validate() throws {
        let pings = PingSchedule.pingCount(
            workers: workers, duration: duration.value, interval: TimeoutConfiguration.default.heartbeatInterval)
        guard pings <= Self.maximumPings else {
            throw ValidationError(
                "--workers \(workers) × --duration \(duration) would simulate \(pings) pings; at most \(Self.maximumPings) fit in memory: "
                    + "give fewer workers or a shorter duration")
        }
    }

    mutating func run() async throws {
        let configuration = TimeoutConfiguration.default
        let seconds = Stopwatch.seconds(duration.value)
        let schedule = try PingSchedule(
            workers: workers, duration: duration.value, interval: configuration.heartbeatInterval,
            stoppedFraction: stoppedPercent / 100, seed: UInt64(seed))
        print(
            "workers \(workers), \(schedule.pings.count) pings over \(duration) virtual, \(schedule.stopped.count) workers stop at \(DurationParser.format(duration.value / 3))"
        )
        let harness = try HarnessOnlyRun(schedule: schedule).measure()
        let wheel = try WheelManagerRun(schedule: schedule, configuration: configuration).measure()
        let scan = try ScanningManagerRun(schedule: schedule, configuration: configuration).measure()
        print("harness alone: \(format(harness.cpuSeconds * 1000)) ms CPU")
        print("")
        print("manager                  CPU % of a core   ns/ping   detected   delay p50     p99      max")
        for (name, result) in [("wheel (WorkerManager)", wheel), ("TiFlow 1 s scan", scan)] {
            let cpu = max(result.cpuSeconds - harness.cpuSeconds, 0)
            let delays = result.delays.sorted()
            func milliseconds(_ fraction: Double) -> String {
                delays.percentileOfSorted(fraction).map { format(Double($0) / 1e6) + " ms" } ?? "-"
            }
            print(
                name.padding(toLength: 25, withPad: " ", startingAt: 0)
                    + "\(format(100 * cpu / seconds))%".padding(toLength: 18, withPad: " ", startingAt: 0)
                    + (schedule.pings.isEmpty ? "-" : format(cpu * 1e9 / Double(schedule.pings.count))).padding(
                        toLength: 10, withPad: " ", startingAt: 0)
                    + "\(delays.count)/\(schedule.stopped.count)".padding(toLength: 11, withPad: " ", startingAt: 0)
                    + milliseconds(0.5).padding(toLength: 10, withPad: " ", startingAt: 0)
                    + milliseconds(0.99).padding(toLength: 10, withPad: " ", startingAt: 0)
                    + milliseconds(1.0))
            if result.early > 0 { print("  \(result.early) workers were declared offline early") }
        }
    }
}

func format(_ value: Double) -> String {
    let rounded = (value * 100).rounded() / 100
    return "\(rounded)"
}

/// When each worker pings, sorted by time; stopped workers' last ping and expected offline time.
struct PingSchedule {
    let ids: [WorkerID]
    let pings: [(at: UInt64, worker: Int32)]
    /// Worker index → the instant its offline timeout passes (last ping + timeout).
    let stopped: [Int: UInt64]
    let end: BeaconInstant
    static let start = BeaconInstant(nanoseconds: 1_000_000_000)

    /// At most this many pings: one per interval per worker, and one more for the phase.
    static func pingCount(workers: Int, duration: Duration, interval: Duration) -> Int {
        (Int(duration / interval) + 1) * workers
    }

    init(workers: Int, duration: Duration, interval: Duration, stoppedFraction: Double, seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let intervalNanos =
            UInt64(interval.components.seconds) * 1_000_000_000
            + UInt64(interval.components.attoseconds / 1_000_000_000)
        let startNanos = Self.start.nanoseconds
        let endNanos = Self.start.advanced(by: duration).nanoseconds
        let stopNanos = startNanos + (endNanos - startNanos) / 3
        let offlineNanos = UInt64(20) * 1_000_000_000
        var pings: [(at: UInt64, worker: Int32)] = []
        pings.reserveCapacity(Self.pingCount(workers: workers, duration: duration, interval: interval))
        var stopped: [Int: UInt64] = [:]
        var ids: [WorkerID] = []
        for worker in 0..<workers {
            ids.append(try WorkerID("job-1-task-\(worker)"))
            let stops = Double(random.next() % 1_000_000) / 1_000_000 < stoppedFraction
            var time = startNanos + random.next() % intervalNanos
            var last = startNanos
            while time < endNanos, !(stops && time >= stopNanos) {
                pings.append((time, Int32(worker)))
                last = time
                time += intervalNanos
            }
            if stops { stopped[worker] = last + offlineNanos }
        }
        pings.sort { $0.at < $1.at }
        self.ids = ids
        self.pings = pings
        self.stopped = stopped
        end = Self.start.advanced(by: duration)
    }
}

struct RunResult {
    var cpuSeconds: Double
    /// How late each stopped worker was declared offline, in nanoseconds.
    var delays: [UInt64] = []
    var early = 0
}

/// Walks the schedule building each ping and doing nothing with it: the cost every run shares.
struct HarnessOnlyRun {
    let schedule: PingSchedule

    func measure() throws -> RunResult {
        let clock = ManualClock(start: PingSchedule.start)
        var checksum: UInt64 = 0
        let before = ThreadCPU.seconds()
        for ping in schedule.pings {
            try clock.advance(to: BeaconInstant(nanoseconds: max(ping.at, clock.now.nanoseconds)))
            let message = HeartbeatPing(
                sendTime: clock.now, fromWorker: schedule.ids[Int(ping.worker)], masterEpoch: Epoch(rawValue: 1),
                workerEpoch: Epoch(rawValue: 2), isFinished: false)
            checksum &+= message.sendTime.nanoseconds
        }
        let cpu = ThreadCPU.seconds() - before
        if checksum == 42 { print("") }
        return RunResult(cpuSeconds: cpu)
    }
}

/// The library's manager, driven the way ``MasterRuntime`` drives it: a pong and a heartbeat for
/// every ping, and an advance at every instant the manager asked to be woken.
struct WheelManagerRun {
    let schedule: PingSchedule
    let configuration: TimeoutConfiguration

    func measure() throws -> RunResult {
        let clock = ManualClock(start: PingSchedule.start)
        let manager = try WorkerManager(
            master: try MasterID("job-1"), epoch: Epoch(rawValue: 1), configuration: configuration, clock: clock,
            capacity: schedule.ids.count + 1)
        let executor = try ExecutorID("executor-1")
        for id in schedule.ids { try manager.workerStarting(id, on: executor, epoch: Epoch(rawValue: 2)) }
        var result = RunResult(cpuSeconds: 0)
        var offline: [(WorkerID, BeaconInstant)] = []
        var due = try manager.advance()
        var next = 0
        let before = ThreadCPU.seconds()
        while next < schedule.pings.count || (due.map { $0 < schedule.end.advanced(by: .seconds(30)) } ?? false) {
            let pingTime = next < schedule.pings.count ? BeaconInstant(nanoseconds: schedule.pings[next].at) : nil
            if let pingTime, due.map({ pingTime <= $0 }) ?? true {
                try clock.advance(to: max(pingTime, clock.now))
                let ping = HeartbeatPing(
                    sendTime: clock.now, fromWorker: schedule.ids[Int(schedule.pings[next].worker)],
                    masterEpoch: Epoch(rawValue: 1), workerEpoch: Epoch(rawValue: 2), isFinished: false)
                _ = manager.answer(to: ping)
                try manager.handleHeartbeat(ping, from: executor)
                next += 1
            } else if let wake = due {
                try clock.advance(to: max(wake, clock.now))
                due = try manager.advance()
            }
            while let event = manager.nextEvent() {
                if case .offline(let worker, _) = event { offline.append((worker, clock.now)) }
            }
        }
        result.cpuSeconds = ThreadCPU.seconds() - before
        let index = Dictionary(uniqueKeysWithValues: schedule.ids.enumerated().map { ($1, $0) })
        for (worker, time) in offline {
            guard let expected = schedule.stopped[index[worker]!] else { continue }
            if time.nanoseconds < expected {
                result.early += 1
            } else {
                result.delays.append(time.nanoseconds - expected)
            }
        }
        return result
    }
}

/// TiFlow's approach as a baseline: a dictionary of expiry times, refreshed by each ping and
/// scanned in full once a second.
struct ScanningManagerRun {
    let schedule: PingSchedule
    let configuration: TimeoutConfiguration

    func measure() throws -> RunResult {
        var expiry: [WorkerID: UInt64] = [:]
        let timeout = UInt64(configuration.offlineTimeout.components.seconds) * 1_000_000_000
        let start = PingSchedule.start.nanoseconds
        for id in schedule.ids { expiry[id] = start + timeout }
        var offline: [(Int, UInt64)] = []
        var nextScan = start + 1_000_000_000
        let stopScanning = schedule.end.advanced(by: .seconds(30)).nanoseconds
        var next = 0
        let index = Dictionary(uniqueKeysWithValues: schedule.ids.enumerated().map { ($1, $0) })
        let before = ThreadCPU.seconds()
        while next < schedule.pings.count || nextScan < stopScanning {
            if next < schedule.pings.count, schedule.pings[next].at <= nextScan {
                let scheduled = schedule.pings[next]
                let ping = HeartbeatPing(
                    sendTime: BeaconInstant(nanoseconds: scheduled.at), fromWorker: schedule.ids[Int(scheduled.worker)],
                    masterEpoch: Epoch(rawValue: 1), workerEpoch: Epoch(rawValue: 2), isFinished: false)
                if expiry[ping.fromWorker] != nil { expiry[ping.fromWorker] = scheduled.at + timeout }
                next += 1
            } else {
                for (id, deadline) in expiry where deadline < nextScan {
                    expiry[id] = nil
                    offline.append((index[id]!, nextScan))
                }
                nextScan += 1_000_000_000
            }
        }
        var result = RunResult(cpuSeconds: ThreadCPU.seconds() - before)
        for (worker, time) in offline {
            guard let expected = schedule.stopped[worker] else { continue }
            if time < expected { result.early += 1 } else { result.delays.append(time - expected) }
        }
        return result
    }
}
