import BeaconMasterWorker
import BeaconMasterWorkerSQLite
import Foundation
import GRDB
import Testing

/// The SQLite store on a real file (WAL) and in memory.
@Suite struct SQLiteStoreTests {
    static func temporaryPath() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "beacon-mw-\(UInt64.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("master.sqlite").path
    }

    let master = Fixture.master()

    @Test func epochsStartAtTwoAndGrowPerJob() async throws {
        let store = try SQLiteMasterWorkerStore(path: ":memory:")
        #expect(try await store.generateEpoch(for: master) == Epoch.first)
        #expect(try await store.generateEpoch(for: master) == Epoch(rawValue: 3))
        #expect(try await store.generateEpoch(for: Fixture.master("job-2")) == Epoch(rawValue: 2))
    }

    @Test func masterMetadataRoundTripsAndAMissingMasterIsNil() async throws {
        let store = try SQLiteMasterWorkerStore(path: ":memory:")
        #expect(try await store.loadMaster(master) == nil)
        let record = MasterMetadata(
            id: master, executor: Fixture.executor("node-a"), address: "10.0.0.1:8080", epoch: Epoch(rawValue: 4),
            state: .failed, errorMessage: "out of memory", detail: [0, 1, 255])
        try await store.saveMaster(record)
        #expect(try await store.loadMaster(master) == record)
    }

    @Test func workerStatusesAreReplacedLoadedPerMasterAndDeletedIdempotently() async throws {
        let store = try SQLiteMasterWorkerStore(path: ":memory:")
        let w1 = Fixture.worker("w1")
        let other = Fixture.master("job-2")
        try await store.saveWorkerStatus(
            WorkerStatus(state: .initialized, epoch: Epoch(rawValue: 3)), worker: w1, master: master)
        let latest = WorkerStatus(state: .error, epoch: Epoch(rawValue: 3), errorMessage: "boom", extensionBytes: [7])
        try await store.saveWorkerStatus(latest, worker: w1, master: master)
        try await store.saveWorkerStatus(latest, worker: w1, master: other)
        #expect(try await store.loadWorkerStatuses(master: master) == [w1: latest])
        try await store.deleteWorkerStatus(worker: w1, master: master, masterEpoch: .first)
        try await store.deleteWorkerStatus(worker: w1, master: master, masterEpoch: .first)
        #expect(try await store.loadWorkerStatuses(master: master).isEmpty)
        #expect(try await store.loadWorkerStatuses(master: other).count == 1)
    }

    /// A status write of an earlier run of a worker that lands after the later run's (a paused
    /// process, a write that waited on a busy file) leaves the later run's row: were it written,
    /// a fail-over would recover the worker at the old epoch and fence out the run that is alive.
    /// A write made at the same time for another worker is not affected.
    @Test func aLateStatusOfAnEarlierRunLeavesTheLaterRunsRow() async throws {
        let store = try SQLiteMasterWorkerStore(path: ":memory:")
        let (w1, w2) = (Fixture.worker("w1"), Fixture.worker("w2"))
        let later = WorkerStatus(state: .normal, epoch: Epoch(rawValue: 5))
        try await store.saveWorkerStatus(later, worker: w1, master: master)
        let stale = Task {
            try await store.saveWorkerStatus(
                WorkerStatus(state: .error, epoch: Epoch(rawValue: 3), errorMessage: "late"), worker: w1,
                master: master)
        }
        let other = Task {
            try await store.saveWorkerStatus(
                WorkerStatus(state: .normal, epoch: Epoch(rawValue: 4)), worker: w2, master: master)
        }
        await #expect(
            throws: MasterWorkerError.staleWorker(w1, ownEpoch: Epoch(rawValue: 3), stored: Epoch(rawValue: 5))
        ) {
            try await stale.value
        }
        try await other.value
        #expect(try await store.loadWorkerStatuses(master: master)[w1] == later)
        #expect(try await store.loadWorkerStatuses(master: master)[w2]?.epoch == Epoch(rawValue: 4))
        // The same run writes again at its own epoch.
        let again = WorkerStatus(state: .finished, epoch: Epoch(rawValue: 5))
        try await store.saveWorkerStatus(again, worker: w1, master: master)
        #expect(try await store.loadWorkerStatuses(master: master)[w1] == again)
    }

    /// A master that a newer one replaced (it cannot hear of it, but still reaches the store)
    /// cannot delete a worker's status: the newer master recovers the worker from it.
    @Test func aStaleMasterCannotDeleteAStatusItsSuccessorRecoversFrom() async throws {
        let store = try SQLiteMasterWorkerStore(path: ":memory:")
        let w1 = Fixture.worker("w1")
        try await store.saveMaster(MasterMetadata(id: master, epoch: Epoch(rawValue: 2)))
        try await store.saveMaster(MasterMetadata(id: master, epoch: Epoch(rawValue: 4)))
        try await store.saveWorkerStatus(WorkerStatus(state: .normal, epoch: .first), worker: w1, master: master)
        await #expect(throws: MasterWorkerError.staleMaster(master, ownEpoch: .first, seen: Epoch(rawValue: 4))) {
            try await store.deleteWorkerStatus(worker: w1, master: master, masterEpoch: .first)
        }
        #expect(try await store.loadWorkerStatuses(master: master).count == 1)
        try await store.deleteWorkerStatus(worker: w1, master: master, masterEpoch: Epoch(rawValue: 4))
        #expect(try await store.loadWorkerStatuses(master: master).isEmpty)
    }

    @Test func concurrentSavesAreGroupCommittedAndAllSurviveAReopen() async throws {
        let path = try Self.temporaryPath()
        do {
            let store = try SQLiteMasterWorkerStore(path: path, durability: .processCrash)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<2_000 {
                    group.addTask {
                        let status = WorkerStatus(
                            state: .normal, epoch: Epoch(rawValue: Int64(index)), errorMessage: "step \(index)")
                        try await store.saveWorkerStatus(status, worker: Fixture.worker("w\(index)"), master: master)
                    }
                }
                try await group.waitForAll()
            }
        }
        let reopened = try SQLiteMasterWorkerStore(path: path)
        let statuses = try await reopened.loadWorkerStatuses(master: master)
        #expect(statuses.count == 2_000)
        #expect(statuses[Fixture.worker("w1234")]?.errorMessage == "step 1234")
        let database = try DatabaseQueue(path: path)
        let mode = try await database.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    /// The last epoch a job can draw is Int64.max; the next draw is an error, not a repeat
    /// (SQLite would turn the sum into a real that reads back as the same epoch again).
    @Test func aJobThatUsedEveryEpochGetsAnErrorNotARepeat() async throws {
        let path = try Self.temporaryPath()
        let store = try SQLiteMasterWorkerStore(path: path)
        _ = try await store.generateEpoch(for: master)
        let database = try DatabaseQueue(path: path)
        try await database.write { try $0.execute(sql: "UPDATE logic_epoch SET epoch = ?", arguments: [Int64.max - 1]) }
        #expect(try await store.generateEpoch(for: master) == Epoch(rawValue: .max))
        await #expect(throws: MasterWorkerError.self) { try await store.generateEpoch(for: master) }
        await #expect(throws: MasterWorkerError.self) { try await store.generateEpoch(for: master) }
    }

    @Test func aCorruptRowIsAStorageErrorNotATrap() async throws {
        let path = try Self.temporaryPath()
        let store = try SQLiteMasterWorkerStore(path: path)
        try await store.saveWorkerStatus(
            WorkerStatus(state: .normal, epoch: Epoch(rawValue: 2)), worker: Fixture.worker("w1"), master: master)
        let database = try DatabaseQueue(path: path)
        try await database.write { try $0.execute(sql: "UPDATE worker_status SET state = 99") }
        await #expect(throws: MasterWorkerError.self) { try await store.loadWorkerStatuses(master: master) }
        try await database.write {
            try $0.execute(sql: "INSERT INTO master_meta VALUES ('job-1', NULL, '', 2, 42, '', x'')")
        }
        await #expect(throws: MasterWorkerError.self) { try await store.loadMaster(master) }
    }

    /// Two starts racing: the one that drew the older epoch saves last. The record keeps the
    /// newer epoch and the outcome written since, and the older start is told it is stale.
    @Test func aStartThatSavesAfterANewerOneIsRefused() async throws {
        let store = try SQLiteMasterWorkerStore(path: ":memory:")
        let older = MasterMetadata(
            id: master, executor: Fixture.executor("node-a"), epoch: Epoch(rawValue: 5), state: .uninitialized)
        var newer = MasterMetadata(
            id: master, executor: Fixture.executor("node-b"), epoch: Epoch(rawValue: 6), state: .uninitialized)
        try await store.saveMaster(newer)
        newer.state = .finished
        try await store.updateMasterOutcome(newer)
        await #expect(
            throws: MasterWorkerError.staleMaster(master, ownEpoch: Epoch(rawValue: 5), seen: Epoch(rawValue: 6))
        ) {
            try await store.saveMaster(older)
        }
        #expect(try await store.loadMaster(master) == newer)
        // A later start takes the record over, and keeps the outcome it did not write.
        var latest = newer
        latest.epoch = Epoch(rawValue: 7)
        latest.executor = Fixture.executor("node-c")
        latest.state = .uninitialized
        try await store.saveMaster(latest)
        latest.state = .finished
        #expect(try await store.loadMaster(master) == latest)
    }

    @Test func aMastersOutcomeIsWrittenOnlyWhileItsEpochIsCurrent() async throws {
        let store = try SQLiteMasterWorkerStore(path: ":memory:")
        var old = MasterMetadata(
            id: master, executor: Fixture.executor("node-a"), epoch: Epoch(rawValue: 2), state: .initialized)
        try await store.saveMaster(old)
        let newer = MasterMetadata(
            id: master, executor: Fixture.executor("node-b"), epoch: Epoch(rawValue: 3), state: .initialized)
        try await store.saveMaster(newer)
        old.state = .failed
        old.errorMessage = "stale"
        await #expect(
            throws: MasterWorkerError.staleMaster(master, ownEpoch: Epoch(rawValue: 2), seen: Epoch(rawValue: 3))
        ) {
            try await store.updateMasterOutcome(old)
        }
        #expect(try await store.loadMaster(master) == newer)
        var finished = newer
        finished.state = .finished
        finished.detail = [1]
        try await store.updateMasterOutcome(finished)
        #expect(try await store.loadMaster(master) == finished)
    }

    @Test(arguments: ["300", "'text'", "NULL"])
    func aStateTheStoreCannotReadIsAStorageErrorNotATrap(value: String) async throws {
        let path = try Self.temporaryPath()
        let store = try SQLiteMasterWorkerStore(path: path)
        try await store.saveWorkerStatus(
            WorkerStatus(state: .normal, epoch: Epoch(rawValue: 2)), worker: Fixture.worker("w1"), master: master)
        let database = try DatabaseQueue(path: path)
        // A hand-edited file: the schema's NOT NULL is dropped by recreating the table.
        try await database.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE worker_status_loose AS SELECT * FROM worker_status;
                    DROP TABLE worker_status;
                    ALTER TABLE worker_status_loose RENAME TO worker_status;
                    UPDATE worker_status SET state = \(value);
                    """)
        }
        await #expect(throws: MasterWorkerError.self) { try await store.loadWorkerStatuses(master: master) }
    }

    @Test func anUnopenablePathIsAStorageError() {
        #expect(throws: MasterWorkerError.self) {
            try SQLiteMasterWorkerStore(path: "/proc/definitely/not/here.sqlite")
        }
    }

    @Test func identifiersAreValidated() {
        #expect(throws: MasterWorkerError.self) { try WorkerID("") }
        #expect(throws: MasterWorkerError.self) { try WorkerID(String(repeating: "x", count: 257)) }
        #expect(throws: MasterWorkerError.self) { try ExecutorID("node\n1") }
        #expect(throws: Never.self) { try MasterID("job-7") }
    }
}
