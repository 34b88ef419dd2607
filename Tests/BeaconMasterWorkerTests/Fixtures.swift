import BeaconCore
import BeaconMasterWorker

/// Names and builders shared by the suites: typed IDs from literals the tests know are valid.
enum Fixture {
    static func worker(_ name: String) -> WorkerID { try! WorkerID(name) }
    static func master(_ name: String = "job-1") -> MasterID { try! MasterID(name) }
    static func executor(_ name: String) -> ExecutorID { try! ExecutorID(name) }

    static let start = BeaconInstant(nanoseconds: 1_000_000_000_000)
    static let masterEpoch = Epoch(rawValue: 1)

    static func manager(
        clock: ManualClock, recovering: [WorkerID: WorkerStatus] = [:], configuration: TimeoutConfiguration = .default
    ) throws -> WorkerManager<ManualClock> {
        try WorkerManager(
            master: master(), epoch: masterEpoch, configuration: configuration, clock: clock, recovering: recovering,
            capacity: 1 << 12)
    }

    static func ping(
        _ worker: WorkerID, workerEpoch: Epoch, masterEpoch: Epoch = masterEpoch, finished: Bool = false,
        at time: BeaconInstant = start
    ) -> HeartbeatPing {
        HeartbeatPing(
            sendTime: time, fromWorker: worker, masterEpoch: masterEpoch, workerEpoch: workerEpoch, isFinished: finished
        )
    }

    static func drain(_ manager: WorkerManager<ManualClock>) -> [WorkerEvent] {
        var events: [WorkerEvent] = []
        while let event = manager.nextEvent() { events.append(event) }
        return events
    }
}
