import ArgumentParser
import BeaconCommandLine
import BeaconCommandLineOptions
import BeaconCore
import BeaconMasterWorker
import BeaconMasterWorkerSQLite

/// A master and its workers in one process, persisting to a SQLite file: every worker reports a
/// new significant status as fast as the store takes it and prints `ack <worker> <step>` once the
/// store has committed it. Killing the process at any moment must lose none of the printed steps
/// (the kill-and-restart test does exactly that).
struct RunJob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a master and its workers against a SQLite file, printing every committed status.")

    /// Each worker is a runtime with its own tasks, mailbox and SQLite row: ten thousand stay
    /// far inside the machine.
    static let workerCount = OptionValue.integer(in: 1...10_000)
    /// Up to the longest interval whose offline timeout (2 intervals + 3 s + 1 s grace) stays
    /// within the library's hour.
    static let heartbeatIntervals = OptionValue.duration(in: .milliseconds(1)...(.seconds(600)))
    static let pauses = OptionValue.duration(in: .zero...(.seconds(3600)))
    static let durations = OptionValue.duration(in: .milliseconds(1)...DurationParser.maximum)
    static let defaultWorkers = 50
    static let defaultHeartbeatInterval = DurationArgument(.milliseconds(200))
    static let defaultPause = DurationArgument(.zero)

    @Option(help: "The SQLite file (created if missing; its folder must exist).")
    var database: String

    @Option(
        help:
            "The master's ID (also the job whose epochs fence it), at most 256 bytes; workers are named <master>-w<n>.")
    var master = "job-1"

    @Option(
        help: Self.workerCount.help("How many workers to create", default: Self.defaultWorkers),
        transform: Self.workerCount.parse)
    var workers = RunJob.defaultWorkers

    @Option(
        help: Self.durations.help("How long to run before exiting gracefully", absent: "until killed"),
        transform: Self.durations.parse)
    var duration: DurationArgument?

    @Option(
        help: Self.heartbeatIntervals.help("Heartbeat interval", default: Self.defaultHeartbeatInterval),
        transform: Self.heartbeatIntervals.parse)
    var heartbeatInterval = RunJob.defaultHeartbeatInterval

    @Option(
        help: Self.pauses.help(
            "How long each worker waits between status changes", default: Self.defaultPause,
            "0s: as fast as the store takes them."),
        transform: Self.pauses.parse)
    var pause = RunJob.defaultPause

    func validate() throws {
        try OptionPath.checkFile(database, option: "--database", kind: "a SQLite file")
        do {
            _ = try MasterID(master)
            // The longest worker ID this run makes must be valid too.
            _ = try WorkerID(Self.workerName(master: master, index: workers - 1))
        } catch {
            throw ValidationError("--master: '\(master)': \(error)")
        }
        _ = try configuration()
    }

    mutating func run() async throws {
        let configuration = try configuration()
        let store: SQLiteMasterWorkerStore
        do {
            store = try SQLiteMasterWorkerStore(path: database)
        } catch {
            throw OptionFailure.report("--database: \(error)")
        }
        let transport = InProcessTransport()
        let clock = MonotonicClock()
        let masterID = try MasterID(master)
        let master = try await MasterRuntime.start(
            id: masterID, executor: try ExecutorID("master-node"), transport: transport, store: store,
            configuration: configuration, clock: clock)
        LineOutput.standardOutput.write(
            "master \(master.epoch.rawValue) \(master.isFirstStart ? "first-start" : "recovered")")
        // A run killed on this file left its workers behind; none of them pinged the master
        // while it recovered, so they are tombstones now, and their names are this run's.
        for (worker, snapshot) in master.workers where snapshot.phase == .tombstone {
            try await master.cleanTombstone(worker)
        }
        let workerNode = try ExecutorID("worker-node")
        let pause = pause.value
        let end = duration.map { clock.now.advanced(by: $0.value) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<workers {
                let workerID = try WorkerID(Self.workerName(master: self.master, index: index))
                let epoch = try await master.createWorker(workerID, on: workerNode)
                group.addTask {
                    let worker = try await WorkerRuntime.start(
                        master: masterID, worker: workerID, epoch: epoch, executor: workerNode, transport: transport,
                        store: store, configuration: configuration, clock: clock)
                    var step = 0
                    while end.map({ clock.now < $0 }) ?? true {
                        step += 1
                        try await worker.updateStatus(.normal, errorMessage: "step \(step)")
                        LineOutput.standardOutput.write("ack \(workerID) \(step)")
                        if pause > .zero { try await clock.sleep(for: pause) }
                    }
                    try await worker.exit(.finished)
                }
            }
            try await group.waitForAll()
        }
        try await master.exit(.finished)
    }

    static func workerName(master: String, index: Int) -> String { "\(master)-w\(index)" }

    private func configuration() throws(ValidationError) -> TimeoutConfiguration {
        do {
            return try TimeoutConfiguration(heartbeatInterval: heartbeatInterval.value, workerTimeoutGrace: .seconds(1))
        } catch {
            throw ValidationError("--heartbeat-interval: \(error)")
        }
    }
}
