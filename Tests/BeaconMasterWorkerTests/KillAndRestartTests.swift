import BeaconCore
import BeaconMasterWorker
import BeaconMasterWorkerSQLite
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A master process is killed with SIGKILL in the middle of its workers' status writes; its
/// SQLite file must hold every status the process had acknowledged, and a new master started on
/// the file must recover every worker: the ones that ping it come back online, the silent ones
/// become tombstones, and neither produces an offline event.
@Suite(.timeLimit(.minutes(2))) struct KillAndRestartTests {
    static let workerCount = 20

    /// `beacon-master-worker`, built next to this test bundle by `swift test`.
    static func tool() throws -> URL {
        let bundle = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        let tool = bundle.deletingLastPathComponent().appendingPathComponent("beacon-master-worker")
        guard FileManager.default.isExecutableFile(atPath: tool.path) else {
            throw MasterWorkerError.storage(
                "\(tool.path) is missing: build it with `swift build --product beacon-master-worker`")
        }
        return tool
    }

    /// Runs the tool until it has printed `acknowledgements` acknowledged statuses, kills it, and
    /// returns everything it printed.
    static func runAndKill(database: String, acknowledgements: Int) async throws -> [String] {
        let process = Process()
        process.executableURL = try tool()
        // Each worker pauses 10 ms between changes: enough writes to be killed in the middle of
        // many, without taking both cores from the tests running beside this one.
        process.arguments = [
            "run", "--database", database, "--workers", "\(workerCount)", "--heartbeat-interval", "50ms", "--pause",
            "10ms",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reader = output.fileHandleForReading
        // A thread of its own reads the pipe: blocking reads must not hold a cooperative thread.
        let lines: [String] = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var text = Data()
                var acknowledged = 0
                var killed = false
                while true {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    text.append(chunk)
                    if !killed {
                        acknowledged += chunk.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
                        if acknowledged >= acknowledgements {
                            kill(process.processIdentifier, SIGKILL)
                            killed = true
                        }
                    }
                }
                if !killed { kill(process.processIdentifier, SIGKILL) }
                continuation.resume(
                    returning: String(decoding: text, as: UTF8.self).split(separator: "\n").map(String.init))
            }
        }
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
        return lines
    }

    /// The tool run again on the file of a killed run: its master recovers the killed run's
    /// workers as tombstones (none of them comes back), cleans them, and starts its own under the
    /// same names instead of failing with `duplicateWorker`.
    @Test func aKilledRunCanBeRunAgainOnItsFile() async throws {
        let database = try SQLiteStoreTests.temporaryPath()
        _ = try await Self.runAndKill(database: database, acknowledgements: 100)
        let process = Process()
        process.executableURL = try Self.tool()
        process.arguments = [
            "run", "--database", database, "--workers", "\(Self.workerCount)", "--heartbeat-interval", "50ms",
            "--pause", "10ms", "--duration", "300ms",
        ]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // A guard, not a timing: a run stuck in recovery is killed, so the test fails on its exit
        // status instead of holding CI (the waits below ignore the suite's time limit).
        let guardRun = DispatchWorkItem { kill(process.processIdentifier, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 90, execute: guardRun)
        defer { guardRun.cancel() }
        // Read on threads of their own: blocking reads must not hold a cooperative thread.
        async let printed = Self.readToEnd(output)
        async let complaints = Self.readToEnd(errors)
        let (text, errorText) = await (printed, complaints)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(errorText)")
        #expect(text.hasPrefix("master ") && text.split(separator: "\n").first?.hasSuffix(" recovered") == true)
        #expect(text.contains("ack job-1-w0 1"))
    }

    static func readToEnd(_ pipe: Pipe) async -> String {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }
        }
    }

    @Test func aKilledMasterLosesNothingAcknowledgedAndItsSuccessorRecoversEveryWorker() async throws {
        let database = try SQLiteStoreTests.temporaryPath()
        let lines = try await Self.runAndKill(database: database, acknowledgements: 1_500)
        var acknowledgedStep: [String: Int] = [:]
        for line in lines {
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[0] == "ack", let step = Int(fields[2]) else { continue }
            acknowledgedStep[String(fields[1])] = max(acknowledgedStep[String(fields[1])] ?? 0, step)
        }
        #expect(acknowledgedStep.count == Self.workerCount)

        let store = try SQLiteMasterWorkerStore(path: database)
        let master = Fixture.master("job-1")
        let killedEpoch = try #require(try await store.loadMaster(master)).epoch
        let persisted = try await store.loadWorkerStatuses(master: master)
        #expect(persisted.count == Self.workerCount)
        for (worker, step) in acknowledgedStep {
            let status = try #require(persisted[Fixture.worker(worker)], "worker \(worker) lost its row")
            let persistedStep = Int(status.errorMessage.split(separator: " ").last ?? "") ?? 0
            #expect(
                persistedStep >= step,
                "worker \(worker): step \(step) was acknowledged but the file holds \(persistedStep)")
        }

        // A successor on the same file: half of the workers come back and ping it. It waits the
        // offline timeout (3.1 s + 3 s) for the others; the returning ones have that long to start.
        let configuration = try TimeoutConfiguration(
            heartbeatInterval: .milliseconds(50), workerTimeout: .milliseconds(1), workerTimeoutGrace: .seconds(3))
        let transport = InProcessTransport()
        let returning = persisted.keys.sorted().prefix(Self.workerCount / 2)
        let successor = Task {
            try await MasterRuntime.start(
                id: master, executor: Fixture.executor("standby-node"), transport: transport, store: store,
                configuration: configuration)
        }
        let workers = try await withThrowingTaskGroup(of: WorkerRuntime.self) { group in
            for worker in returning {
                let epoch = persisted[worker]!.epoch
                group.addTask {
                    try await WorkerRuntime.start(
                        master: master, worker: worker, epoch: epoch, executor: Fixture.executor("node-2"),
                        transport: transport, store: store, configuration: configuration)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let recovered = try await successor.value
        #expect(!recovered.isFirstStart)
        #expect(recovered.epoch > killedEpoch)
        let phases = recovered.workers.mapValues(\.phase)
        #expect(phases.count == Self.workerCount)
        #expect(returning.allSatisfy { phases[$0] == .online })
        #expect(phases.values.filter { $0 == .tombstone }.count == Self.workerCount / 2)
        for worker in workers { worker.stop() }
        recovered.stop()
        var offline = 0
        for await event in recovered.events {
            if case .offline = event { offline += 1 }
        }
        #expect(offline == 0)
    }
}
