import BeaconCore

/// The workers a ``WorkerManager`` holds, laid out for the ping path: everything a steady ping
/// reads (phase, worker epoch, wheel handle) is a plain value stored in the ID dictionary itself,
/// so a ping hashes the ID once, copies no strings, touches no reference counts and misses the
/// cache as little as a bare dictionary would. The worker's executor and last status sit in an
/// array of records, read only on state changes.
struct WorkerTable {
    /// What a ping checks and updates.
    struct Liveness {
        var phase: WorkerPhase
        var receivedFinish = false
        /// The epoch of the worker's last known status: pings from another epoch are fenced.
        var workerEpoch: Epoch
        /// The worker's deadline on the wheel, while it has one.
        var handle: HeartbeatHandle?
        /// Where the worker's record is.
        var slot: Int
    }

    /// What only state changes and snapshots read.
    struct Record {
        var id: WorkerID
        var executor: ExecutorID?
        var status: WorkerStatus
    }

    private var livenessByID: [WorkerID: Liveness] = [:]
    private var records: [Record?] = []
    private var freeSlots: [Int] = []

    var count: Int { livenessByID.count }

    /// The worker's liveness, or nil if the table does not hold it.
    func liveness(of worker: WorkerID) -> Liveness? { livenessByID[worker] }

    /// Changes a held worker's liveness; does nothing for another ID.
    mutating func update(_ worker: WorkerID, _ body: (inout Liveness) -> Void) {
        guard let index = livenessByID.index(forKey: worker) else { return }
        body(&livenessByID.values[index])
    }

    /// Adds a worker, which must not be in the table, reusing a free record slot if there is one.
    mutating func insert(_ record: Record, phase: WorkerPhase, handle: HeartbeatHandle? = nil) {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            records[slot] = record
        } else {
            slot = records.count
            records.append(record)
        }
        livenessByID[record.id] = Liveness(phase: phase, workerEpoch: record.status.epoch, handle: handle, slot: slot)
    }

    mutating func remove(_ worker: WorkerID) {
        guard let entry = livenessByID.removeValue(forKey: worker) else { return }
        records[entry.slot] = nil
        freeSlots.append(entry.slot)
    }

    /// The record of a held worker's liveness.
    func record(_ entry: Liveness) -> Record { records[entry.slot]! }

    /// Changes a held worker's record.
    mutating func updateRecord(_ entry: Liveness, _ body: (inout Record) -> Void) {
        body(&records[entry.slot]!)
    }

    /// Every held worker.
    var workers: [WorkerID] { Array(livenessByID.keys) }
}
