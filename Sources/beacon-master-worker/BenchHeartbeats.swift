import ArgumentParser
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
        commandName: "heartbeats", abstract: "CPU and offline-detection delay of one master with many workers (virtual time).")

    @Option(help: "Workers under the master.")
    var workers = 100_000

    @Option(help: "Virtual seconds to simulate.")
    var seconds = 60

    @Option(help: "Percent of workers that stop pinging at a third of the run.")
    var stoppedPercent = 1.0

    @Option(help: "Seed of the ping phases and of which workers stop.")
    var seed: UInt64 = 1

    mutating func run() async throws {
        guard workers > 0, seconds > 0, (0...100).contains(stoppedPercent) else {
            throw ValidationError("--workers and --seconds must be positive, --stopped-percent in 0...100")
        }
        let configuration = TimeoutConfiguration.default
        let schedule = try PingSchedule(
            workers: workers, duration: .seconds(seconds), interval: configuration.heartbeatInterval,
            stoppedFraction: stoppedPercent / 100, seed: seed)
        print("workers \(workers), \(schedule.pings.count) pings over \(seconds) virtual s, \(schedule.stopped.count) workers stop at \(seconds / 3) s")
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
                    + "\(format(100 * cpu / Double(seconds)))%".padding(toLength: 18, withPad: " ", startingAt: 0)
                    + format(cpu * 1e9 / Double(schedule.pings.count)).padding(toLength: 10, withPad: " ", startingAt: 0)
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

    init(workers: Int, duration: Duration, interval: Duration, stoppedFraction: Double, seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let intervalNanos = UInt64(interval.components.seconds) * 1_000_000_000 + UInt64(interval.components.attoseconds / 1_000_000_000)
        let startNanos = Self.start.nanoseconds
        let endNanos = Self.start.advanced(by: duration).nanoseconds
        let stopNanos = startNanos + (endNanos - startNanos) / 3
        let offlineNanos = UInt64(20) * 1_000_000_000
        var pings: [(at: UInt64, worker: Int32)] = []
        pings.reserveCapacity(Int((endNanos - startNanos) / intervalNanos + 1) * workers)
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
                _ = manager.pong(for: ping)
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
            if time.nanoseconds < expected { result.early += 1 } else {
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
