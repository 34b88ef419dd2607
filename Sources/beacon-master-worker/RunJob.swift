import ArgumentParser
import BeaconCommandLine
import BeaconCore
import BeaconMasterWorker
import BeaconMasterWorkerSQLite
#if canImport(Glibc)
import Glibc
#endif

/// A master and its workers in one process, persisting to a SQLite file: every worker reports a
/// new significant status as fast as the store takes it and prints `ack <worker> <step>` once the
/// store has committed it. Killing the process at any moment must lose none of the printed steps
/// (the kill-and-restart test does exactly that).
struct RunJob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a master and its workers against a SQLite file, printing every committed status.")

    @Option(help: "The SQLite file (created if missing).")
    var database: String

    @Option(help: "The master's ID (also the job whose epochs fence it).")
    var master = "job-1"

    @Option(help: "How many workers to create.")
    var workers = 50

    @Option(help: "Seconds to run before exiting gracefully (0: until killed).")
    var duration: Double = 0

    @Option(help: "Heartbeat interval in milliseconds.")
    var heartbeatMilliseconds = 200

    @Option(help: "Milliseconds each worker waits between status changes (0: as fast as the store takes them).")
    var pauseMilliseconds = 0

    mutating func run() async throws {
        guard workers > 0, pauseMilliseconds >= 0 else { throw ValidationError("--workers must be positive, --pause-milliseconds not negative") }
        // The shared duration rule (whole milliseconds, 0...1000000000 s) instead of
        // `Duration.seconds(_:)`, which traps on inf and on values too large for a Duration.
        let runDuration: Duration
        do {
            runDuration = try DurationParser.duration(seconds: duration)
        } catch {
            throw ValidationError("--duration: \(error)")
        }
        let configuration = try TimeoutConfiguration(heartbeatInterval: .milliseconds(heartbeatMilliseconds), workerTimeoutGrace: .seconds(1))
        let store = try SQLiteMasterWorkerStore(path: database)
        let transport = InProcessTransport()
        let clock = MonotonicClock()
        let masterID = try MasterID(master)
        let master = try await MasterRuntime.start(
            id: masterID, executor: try ExecutorID("master-node"), transport: transport, store: store,
            configuration: configuration, clock: clock)
        AckLog.print("master \(master.epoch.rawValue) \(master.isFirstStart ? "first-start" : "recovered")")
        let workerNode = try ExecutorID("worker-node")
        let pause = Duration.milliseconds(pauseMilliseconds)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<workers {
                let workerID = try WorkerID("\(masterID)-w\(index)")
                let epoch = try await master.createWorker(workerID, on: workerNode)
                group.addTask {
                    let worker = try await WorkerRuntime.start(
                        master: masterID, worker: workerID, epoch: epoch, executor: workerNode, transport: transport,
                        store: store, configuration: configuration, clock: clock)
                    let end = runDuration > .zero ? clock.now.advanced(by: runDuration) : nil
                    var step = 0
                    while end.map({ clock.now < $0 }) ?? true {
                        step += 1
                        try await worker.updateStatus(.normal, errorMessage: "step \(step)")
                        AckLog.print("ack \(workerID) \(step)")
                        if pause > .zero { try await clock.sleep(for: pause) }
                    }
                    try await worker.exit(.finished)
                }
            }
            try await group.waitForAll()
        }
        try await master.exit(.finished)
    }
}

/// Lines on standard output, each written with one unbuffered `write` so a reader sees it as
/// soon as it is printed and lines from concurrent workers never interleave.
enum AckLog {
    static func print(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
