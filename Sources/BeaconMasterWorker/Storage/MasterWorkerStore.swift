/// Where masters and workers keep what must survive a crash: the per-job epoch counter, each
/// master's metadata, and each worker's last significant status.
///
/// A call that returns has made its write durable; a call that throws wrote nothing the reader
/// could see half-done. `SQLiteMasterWorkerStore` is the implementation.
public protocol MasterWorkerStore: Sendable {
    /// Increments the job's epoch counter and returns the new value: ``Epoch/first`` the first
    /// time, larger on every call after; ``MasterWorkerError/storage(_:)`` once the counter has
    /// reached `Int64.max`, since an epoch must never repeat.
    func generateEpoch(for job: MasterID) async throws(MasterWorkerError) -> Epoch
    /// The master's persisted metadata, or nil if it never started.
    func loadMaster(_ id: MasterID) async throws(MasterWorkerError) -> MasterMetadata?
    /// Records a master's start: the whole record when there is none; otherwise only its epoch,
    /// executor and address, and only if the stored epoch is not newer (state, error message and
    /// detail are ``updateMasterOutcome(_:)``'s).
    ///
    /// - Throws: ``MasterWorkerError/staleMaster(_:ownEpoch:seen:)`` when a master with a newer
    ///   epoch has started on the record (nothing is written).
    func saveMaster(_ metadata: MasterMetadata) async throws(MasterWorkerError)
    /// Writes only the master's state, error message and detail, and only if the record's epoch is
    /// still `metadata.epoch`.
    ///
    /// - Throws: ``MasterWorkerError/staleMaster(_:ownEpoch:seen:)`` when a newer master has
    ///   started on the record (nothing is written).
    func updateMasterOutcome(_ metadata: MasterMetadata) async throws(MasterWorkerError)
    /// Writes a worker's status (insert or replace), unless the stored one is of a later run of
    /// the worker: a late write of a run the master has replaced must not take the record back,
    /// or a fail-over would recover the worker at the old run's epoch and fence out the new run.
    ///
    /// - Throws: ``MasterWorkerError/staleWorker(_:ownEpoch:stored:)`` when the stored status has
    ///   a newer epoch than `status` (nothing is written).
    func saveWorkerStatus(_ status: WorkerStatus, worker: WorkerID, master: MasterID) async throws(MasterWorkerError)
    /// Deletes a worker's status, only while the master's record holds `masterEpoch`; deleting a
    /// missing one is fine.
    ///
    /// - Throws: ``MasterWorkerError/staleMaster(_:ownEpoch:seen:)`` when a newer master has
    ///   started on the record (nothing is deleted): the status may be what it recovers from.
    func deleteWorkerStatus(worker: WorkerID, master: MasterID, masterEpoch: Epoch) async throws(MasterWorkerError)
    /// Every worker status persisted under the master.
    func loadWorkerStatuses(master: MasterID) async throws(MasterWorkerError) -> [WorkerID: WorkerStatus]
}
