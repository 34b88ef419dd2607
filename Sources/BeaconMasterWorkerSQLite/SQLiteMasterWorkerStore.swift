import BeaconCore
public import BeaconMasterWorker
import Foundation
import GRDB

/// A `MasterWorkerStore` in one SQLite file, through GRDB.
///
/// The file runs in WAL mode, so readers never block the writer. Worker statuses are
/// group-committed: every status saved while a transaction is being written joins the next
/// one, and each caller returns only once its own row is committed. Under load that folds
/// several saves into each transaction (about ten at 10 000 saves per second here), which keeps 10 000
/// significant changes per second within a third of a core (see docs/benchmarks.md).
public final class SQLiteMasterWorkerStore: MasterWorkerStore {
    /// What a returned write survives.
    public enum Durability: Sendable, Hashable {
        /// The process being killed (`synchronous = NORMAL`): the WAL is written before a call
        /// returns but only synced at checkpoints, so a power cut may lose the last commits.
        case processCrash
        /// Power loss as well (`synchronous = FULL`): every commit is synced before it returns.
        case powerLoss
    }

    private let writer: any DatabaseWriter
    private let statusWriter: GroupCommitter<StatusRow>

    /// Opens (creating if needed) the store at `path`; `":memory:"` gives a private in-memory
    /// database for tests.
    ///
    /// - Throws: `MasterWorkerError/storage(_:)` if the file cannot be opened or migrated.
    public init(path: String, durability: Durability = .powerLoss) throws(MasterWorkerError) {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let synchronous = durability == .powerLoss ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
        }
        do {
            writer =
                path == ":memory:"
                ? try DatabaseQueue(configuration: configuration)
                : try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(writer)
        } catch {
            throw .storage("cannot open \(path): \(error)")
        }
        let writer = self.writer
        statusWriter = GroupCommitter { rows throws(MasterWorkerError) in
            try await Self.write(writer) { db in
                // A row of a later run of the worker (a newer epoch) stays: the write changes
                // nothing, and its caller hears which epoch the store holds.
                let upsert = try db.cachedStatement(
                    sql: """
                        INSERT INTO worker_status (master_id, worker_id, state, epoch, error_message, extend_bytes)
                        VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT (master_id, worker_id) DO UPDATE
                        SET state = excluded.state, epoch = excluded.epoch, error_message = excluded.error_message,
                            extend_bytes = excluded.extend_bytes
                        WHERE excluded.epoch >= worker_status.epoch
                        """)
                let stored = try db.cachedStatement(
                    sql: "SELECT epoch FROM worker_status WHERE master_id = ? AND worker_id = ?")
                return try rows.map { row -> MasterWorkerError? in
                    try upsert.execute(arguments: [
                        row.master.rawValue, row.worker.rawValue, row.status.state.rawValue, row.status.epoch.rawValue,
                        row.status.errorMessage, Data(row.status.extensionBytes),
                    ])
                    guard db.changesCount == 0 else { return nil }
                    let epoch = try Int64.fetchOne(stored, arguments: [row.master.rawValue, row.worker.rawValue]) ?? 0
                    return .staleWorker(row.worker, ownEpoch: row.status.epoch, stored: Epoch(rawValue: epoch))
                }
            }
        }
    }

    private struct StatusRow: Sendable {
        var master: MasterID
        var worker: WorkerID
        var status: WorkerStatus
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE logic_epoch (job_id TEXT PRIMARY KEY NOT NULL, epoch INTEGER NOT NULL);
                    CREATE TABLE master_meta (
                        id TEXT PRIMARY KEY NOT NULL, executor TEXT, address TEXT NOT NULL, epoch INTEGER NOT NULL,
                        state INTEGER NOT NULL, error_message TEXT NOT NULL, detail BLOB NOT NULL);
                    CREATE TABLE worker_status (
                        master_id TEXT NOT NULL, worker_id TEXT NOT NULL, state INTEGER NOT NULL, epoch INTEGER NOT NULL,
                        error_message TEXT NOT NULL, extend_bytes BLOB NOT NULL,
                        PRIMARY KEY (master_id, worker_id)) WITHOUT ROWID;
                    """)
        }
        return migrator
    }

    public func generateEpoch(for job: MasterID) async throws(MasterWorkerError) -> Epoch {
        try await Self.write(writer) { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO logic_epoch (job_id, epoch) VALUES (?, 1)", arguments: [job.rawValue])
            // SQLite turns an integer past Int64.max into a real, which would read back as the
            // same epoch every time: an epoch must never repeat, so the counter's end is an error.
            try db.execute(
                sql: "UPDATE logic_epoch SET epoch = epoch + 1 WHERE job_id = ? AND epoch < ?",
                arguments: [job.rawValue, Int64.max])
            guard db.changesCount == 1 else {
                throw MasterWorkerError.storage("job \(job) has used every epoch up to \(Int64.max)")
            }
            let value = try Int64.fetchOne(
                db, sql: "SELECT epoch FROM logic_epoch WHERE job_id = ?", arguments: [job.rawValue])
            return Epoch(rawValue: value ?? 0)
        }
    }

    public func loadMaster(_ id: MasterID) async throws(MasterWorkerError) -> MasterMetadata? {
        try await Self.read(writer) { db in
            guard
                let row = try Row.fetchOne(db, sql: "SELECT * FROM master_meta WHERE id = ?", arguments: [id.rawValue])
            else {
                return nil
            }
            let what = "master \(id)"
            let stateCode = try Self.column(row, "state", as: Int64.self, of: what)
            guard let state = Int8(exactly: stateCode).flatMap(MasterState.init(rawValue:)) else {
                throw MasterWorkerError.storage("\(what) has an unknown state code \(stateCode)")
            }
            let executor = try Self.column(row, "executor", as: String?.self, of: what)
            return MasterMetadata(
                id: id, executor: try executor.map { raw throws(MasterWorkerError) in try ExecutorID(raw) },
                address: try Self.column(row, "address", as: String.self, of: what),
                epoch: Epoch(rawValue: try Self.column(row, "epoch", as: Int64.self, of: what)), state: state,
                errorMessage: try Self.column(row, "error_message", as: String.self, of: what),
                detail: [UInt8](try Self.column(row, "detail", as: Data.self, of: what)))
        }
    }

    public func saveMaster(_ metadata: MasterMetadata) async throws(MasterWorkerError) {
        // One statement: a start that drew its epoch before another and saves after it must not
        // take the record back to its older epoch, nor write back the state it read before the
        // newer master's outcome.
        let current = try await Self.write(writer) { db -> Int64? in
            try db.execute(
                sql: """
                    INSERT INTO master_meta (id, executor, address, epoch, state, error_message, detail)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE
                    SET executor = excluded.executor, address = excluded.address, epoch = excluded.epoch
                    WHERE excluded.epoch >= master_meta.epoch
                    """,
                arguments: [
                    metadata.id.rawValue, metadata.executor?.rawValue, metadata.address, metadata.epoch.rawValue,
                    metadata.state.rawValue, metadata.errorMessage, Data(metadata.detail),
                ])
            guard db.changesCount == 0 else { return nil }
            return try Self.masterEpoch(of: metadata.id, in: db) ?? 0
        }
        if let current {
            throw .staleMaster(metadata.id, ownEpoch: metadata.epoch, seen: Epoch(rawValue: current))
        }
    }

    /// Worker statuses committed so far, and in how many transactions.
    public var statusCommitStatistics: GroupCommitStatistics { statusWriter.statistics }

    public func updateMasterOutcome(_ metadata: MasterMetadata) async throws(MasterWorkerError) {
        let current = try await Self.write(writer) { db -> Int64? in
            try db.execute(
                sql: "UPDATE master_meta SET state = ?, error_message = ?, detail = ? WHERE id = ? AND epoch = ?",
                arguments: [
                    metadata.state.rawValue, metadata.errorMessage, Data(metadata.detail), metadata.id.rawValue,
                    metadata.epoch.rawValue,
                ])
            guard db.changesCount == 0 else { return nil }
            return try Self.masterEpoch(of: metadata.id, in: db) ?? 0
        }
        if let current {
            throw .staleMaster(metadata.id, ownEpoch: metadata.epoch, seen: Epoch(rawValue: current))
        }
    }

    public func saveWorkerStatus(_ status: WorkerStatus, worker: WorkerID, master: MasterID)
        async throws(MasterWorkerError)
    {
        try await statusWriter.submit(StatusRow(master: master, worker: worker, status: status))
    }

    public func deleteWorkerStatus(worker: WorkerID, master: MasterID, masterEpoch: Epoch)
        async throws(MasterWorkerError)
    {
        // One transaction: a master that starts between the check and the delete would recover
        // from the row this one deletes.
        let current = try await Self.write(writer) { db -> Int64? in
            guard let epoch = try Self.masterEpoch(of: master, in: db), epoch > masterEpoch.rawValue else {
                try db.execute(
                    sql: "DELETE FROM worker_status WHERE master_id = ? AND worker_id = ?",
                    arguments: [master.rawValue, worker.rawValue])
                return nil
            }
            return epoch
        }
        if let current {
            throw .staleMaster(master, ownEpoch: masterEpoch, seen: Epoch(rawValue: current))
        }
    }

    public func loadWorkerStatuses(master: MasterID) async throws(MasterWorkerError) -> [WorkerID: WorkerStatus] {
        try await Self.read(writer) { db in
            var statuses: [WorkerID: WorkerStatus] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT * FROM worker_status WHERE master_id = ?", arguments: [master.rawValue])
            while let row = try rows.next() {
                let worker = try WorkerID(
                    try Self.column(row, "worker_id", as: String.self, of: "a worker of master \(master)"))
                let what = "worker \(worker) under master \(master)"
                let stateCode = try Self.column(row, "state", as: Int64.self, of: what)
                guard let state = Int8(exactly: stateCode).flatMap(WorkerState.init(rawValue:)) else {
                    throw MasterWorkerError.storage("\(what) has an unknown state code \(stateCode)")
                }
                statuses[worker] = WorkerStatus(
                    state: state, epoch: Epoch(rawValue: try Self.column(row, "epoch", as: Int64.self, of: what)),
                    errorMessage: try Self.column(row, "error_message", as: String.self, of: what),
                    extensionBytes: [UInt8](try Self.column(row, "extend_bytes", as: Data.self, of: what)))
            }
            return statuses
        }
    }

    /// The epoch the master's record holds, nil if it has none: what a stale master is told.
    private static func masterEpoch(of id: MasterID, in db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT epoch FROM master_meta WHERE id = ?", arguments: [id.rawValue])
    }

    /// A column's value, or a storage error naming the record when it is missing or of the wrong
    /// type (GRDB's subscripts trap on those, and a file can be edited by hand).
    private static func column<T: DatabaseValueConvertible>(
        _ row: Row, _ name: String, as type: T.Type, of record: String
    ) throws(MasterWorkerError) -> T {
        let value: DatabaseValue = row[name]
        guard let decoded = T.fromDatabaseValue(value) else {
            throw .storage("\(record): column \(name) holds \(value), not a \(T.self)")
        }
        return decoded
    }

    /// A nullable column's value: nil for NULL, a storage error for a value of the wrong type.
    private static func column<T: DatabaseValueConvertible>(
        _ row: Row, _ name: String, as type: T?.Type, of record: String
    ) throws(MasterWorkerError) -> T? {
        let value: DatabaseValue = row[name]
        if value.isNull { return nil }
        return try column(row, name, as: T.self, of: record)
    }

    private static func write<T: Sendable>(
        _ writer: any DatabaseWriter, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(MasterWorkerError) -> T {
        try await access("write") { try await writer.write(body) }
    }

    private static func read<T: Sendable>(
        _ writer: any DatabaseWriter, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(MasterWorkerError) -> T {
        try await access("read") { try await writer.read(body) }
    }

    /// Runs a database access, passing the store's own errors through and wrapping GRDB's.
    private static func access<T>(_ kind: String, _ operation: () async throws -> T) async throws(MasterWorkerError)
        -> T
    {
        do {
            return try await operation()
        } catch let error as MasterWorkerError {
            throw error
        } catch {
            throw .storage("\(kind) failed: \(error)")
        }
    }
}
