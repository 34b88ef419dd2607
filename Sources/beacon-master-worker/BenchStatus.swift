import ArgumentParser
import BeaconCommandLineOptions
import BeaconMasterWorker
import BeaconMasterWorkerSQLite
import BenchmarkSupport
import Foundation

/// Significant status changes at a fixed rate into a real SQLite file in WAL mode, measuring the
/// process's CPU per wall second and how long each save waited for its commit. The baseline,
/// run first on the same file, saves one status at a time, so every save is its own
/// transaction: the cost group commit removes.
struct BenchStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "CPU of persisting worker statuses at a fixed rate (SQLite, WAL, group commit).")

    static let rates = OptionValue.integer(in: 1...1_000_000)
    static let durations = OptionValue.duration(in: .milliseconds(100)...(.seconds(3600)))
    static let workerCount = OptionValue.integer(in: 1...1_000_000)
    /// A save the store has not committed yet holds a task and its status, about 2.5 KB; when
    /// the requested rate outruns the store they pile up, so a run is capped at this many saves
    /// (about 7.5 GB if none were committed).
    static let maximumSaves = 3_000_000
    static let defaultRate = 10_000
    static let defaultDuration = DurationArgument(.seconds(10))
    static let defaultWorkers = 10_000

    @Option(
        help: Self.rates.help("Significant status changes per second", default: Self.defaultRate),
        transform: Self.rates.parse)
    var rate = BenchStatus.defaultRate

    @Option(
        help: Self.durations.help(
            "How long to run at that rate", default: Self.defaultDuration,
            "--rate × --duration is at most \(Self.maximumSaves) saves."),
        transform: Self.durations.parse)
    var duration = BenchStatus.defaultDuration

    @Option(
        help: Self.workerCount.help("Distinct workers the changes are spread over", default: Self.defaultWorkers),
        transform: Self.workerCount.parse)
    var workers = BenchStatus.defaultWorkers

    @Option(
        help:
            "Folder for the database files, which are kept: an existing folder, or a new one in an existing folder (default: a temporary folder, removed at the end)."
    )
    var directory: String?

    func validate() throws {
        if let directory { try OptionPath.checkFolder(directory, option: "--directory") }
        let saves = Int(Double(rate) * Stopwatch.seconds(duration.value))
        guard saves <= Self.maximumSaves else {
            throw ValidationError(
                "--rate \(rate) × --duration \(duration) asks for \(saves) saves; at most \(Self.maximumSaves) fit in memory when the store falls behind: "
                    + "give a lower rate or a shorter duration")
        }
    }

    mutating func run() async throws {
        let folder: String
        if let directory {
            folder = directory
            try DatabasePath.makeFolder(directory, option: "--directory")
        } else {
            folder = try DatabasePath.makeTemporaryFolder(prefix: "beacon-status")
        }
        // The temporary folder goes however the run ends; a folder the user named keeps the files.
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: folder) } }
        let master = try MasterID("job-1")
        let ids = try (0..<workers).map { try WorkerID("job-1-task-\($0)") }
        print(
            "rate \(rate)/s for \(duration) over \(workers) workers; files in \(folder)\(directory == nil ? " (removed at the end)" : "")"
        )
        print("")
        print(
            "mode                                  saves/s   CPU % of a core   µs CPU/save   tx    saves/tx   wait p50   p99"
        )
        for durability in [SQLiteMasterWorkerStore.Durability.processCrash, .powerLoss] {
            let name = durability == .powerLoss ? "FULL" : "NORMAL"
            let path = "\(folder)/status-\(name).sqlite"
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            let store: SQLiteMasterWorkerStore
            do {
                store = try SQLiteMasterWorkerStore(path: path, durability: durability)
            } catch {
                throw OptionFailure.report("\(directory == nil ? "the temporary folder" : "--directory"): \(error)")
            }
            let sequential = try await Self.sequential(
                store: store, master: master, ids: ids, duration: min(duration.value, .seconds(3)))
            report("one at a time, synchronous=\(name)", sequential, store.statusCommitStatistics)
            let before = store.statusCommitStatistics
            let paced = try await Self.paced(
                store: store, master: master, ids: ids, rate: rate, duration: duration.value)
            let after = store.statusCommitStatistics
            report(
                "\(rate)/s grouped, synchronous=\(name)", paced,
                GroupCommitStatistics(
                    transactions: after.transactions - before.transactions, statuses: after.statuses - before.statuses))
        }
    }

    struct Measurement {
        var saves = 0
        var wallSeconds = 0.0
        var cpuSeconds = 0.0
        var waits: [Double] = []
    }

    func report(_ name: String, _ measurement: Measurement, _ commits: GroupCommitStatistics) {
        let waits = measurement.waits.sorted()
        func wait(_ fraction: Double) -> String {
            waits.percentileOfSorted(fraction).map { format($0 * 1000) + " ms" } ?? "-"
        }
        let columns = [
            (name, 38), (format(Double(measurement.saves) / measurement.wallSeconds), 10),
            (format(100 * measurement.cpuSeconds / measurement.wallSeconds) + "%", 18),
            (format(measurement.cpuSeconds * 1e6 / Double(max(measurement.saves, 1))), 14),
            ("\(commits.transactions)", 6),
            (format(Double(commits.statuses) / Double(max(commits.transactions, 1))), 11),
            (wait(0.5), 11), (wait(0.99), 0),
        ]
        print(columns.map { $0.1 > 0 ? $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) : $0.0 }.joined())
    }

    static func status(_ step: Int) -> WorkerStatus {
        WorkerStatus(
            state: step % 2 == 0 ? .normal : .initialized, epoch: Epoch(rawValue: 2), errorMessage: "step \(step)")
    }

    /// As many saves as one caller can make in `duration`, each awaited before the next.
    static func sequential(store: SQLiteMasterWorkerStore, master: MasterID, ids: [WorkerID], duration: Duration)
        async throws -> Measurement
    {
        let clock = ContinuousClock()
        let start = clock.now
        let cpu = ProcessCPU.seconds()
        var measurement = Measurement()
        while clock.now - start < duration {
            let before = clock.now
            try await store.saveWorkerStatus(
                status(measurement.saves), worker: ids[measurement.saves % ids.count], master: master)
            measurement.waits.append(Stopwatch.seconds(clock.now - before))
            measurement.saves += 1
        }
        measurement.wallSeconds = Stopwatch.seconds(clock.now - start)
        measurement.cpuSeconds = ProcessCPU.seconds() - cpu
        return measurement
    }

    /// `rate` saves per second for `duration`, released every millisecond from concurrent tasks.
    static func paced(store: SQLiteMasterWorkerStore, master: MasterID, ids: [WorkerID], rate: Int, duration: Duration)
        async throws -> Measurement
    {
        let clock = ContinuousClock()
        let start = clock.now
        let cpu = ProcessCPU.seconds()
        let total = Int(Double(rate) * Stopwatch.seconds(duration))
        let waits = try await withThrowingTaskGroup(of: Double.self, returning: [Double].self) { group in
            var released = 0
            var waits: [Double] = []
            waits.reserveCapacity(total)
            while released < total {
                let due = min(total, Int(Stopwatch.seconds(clock.now - start) * Double(rate)) + 1)
                while released < due {
                    let step = released
                    group.addTask {
                        let before = clock.now
                        try await store.saveWorkerStatus(status(step), worker: ids[step % ids.count], master: master)
                        return Stopwatch.seconds(clock.now - before)
                    }
                    released += 1
                }
                try await Task.sleep(for: .milliseconds(1))
            }
            for try await wait in group { waits.append(wait) }
            return waits
        }
        return Measurement(
            saves: total, wallSeconds: Stopwatch.seconds(clock.now - start), cpuSeconds: ProcessCPU.seconds() - cpu,
            waits: waits)
    }
}
