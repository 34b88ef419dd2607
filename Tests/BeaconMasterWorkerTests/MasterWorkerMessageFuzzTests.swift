import BeaconCore
import Foundation
import FuzzReplay
import Testing

@testable import BeaconMasterWorker

/// Replays every committed `MasterWorkerMessageFuzz` input through the harness the fuzz target
/// runs, and shows that the harness's checks can fail.
@Suite struct MasterWorkerMessageFuzzTests {
    @Test(arguments: FuzzCorpus.inputs(of: "MasterWorkerMessageFuzz"))
    func replays(_ file: URL) throws {
        #expect(try FuzzCorpus.failure(replaying: file, through: MasterWorkerMessageFuzzHarness.run) == nil)
    }

    /// The receiver model catches a receiver that breaks a rule: a master whose table lost a
    /// worker drops that worker's valid ping, which the model expected to be accepted.
    @Test func aReceiverThatDisagreesWithTheModelIsReported() throws {
        var world = try MasterWorkerReceiverModel(scenario: 0)
        let ping = HeartbeatPing(
            sendTime: world.start, fromWorker: world.online, masterEpoch: world.masterEpoch,
            workerEpoch: Epoch(rawValue: 7),
            isFinished: false)
        #expect(world.deliver(.ping(ping)) == nil)
        try world.manager.workerCreationFailed(WorkerID("w-created"), error: "gone behind the model's back")
        _ = world.manager.nextEvent()
        let lost = HeartbeatPing(
            sendTime: world.start, fromWorker: try WorkerID("w-created"), masterEpoch: world.masterEpoch,
            workerEpoch: Epoch(rawValue: 6), isFinished: false)
        #expect(world.deliver(.ping(lost)) != nil)
    }

    /// The codec's promise is checked: an identifier the codec should never let through is
    /// reported, and so is a message that does not survive the round trip.
    @Test func brokenPromisesAreReported() throws {
        #expect(!MasterWorkerMessageModel.isValidIdentifier("w\u{85}"))
        #expect(!MasterWorkerMessageModel.isValidIdentifier(String(repeating: "é", count: 129)))
        #expect(MasterWorkerMessageModel.isValidIdentifier(String(repeating: "é", count: 128)))
        let ping = HeartbeatPing(
            sendTime: .zero, fromWorker: try WorkerID("w"), masterEpoch: Epoch(rawValue: 5),
            workerEpoch: Epoch(rawValue: 6),
            isFinished: true)
        #expect(MasterWorkerMessageFuzzHarness.roundTrip(.ping(ping)) == nil)
        #expect(MasterWorkerMessageFuzzHarness.brokenPromise(.ping(ping)) == nil)
    }

    @Test func tiflowsFieldNamesDecode() throws {
        let ping = #"{"send-time":1000,"from-worker-id":"job-7-task-1","epoch":5,"worker-epoch":7,"is-finished":false}"#
        #expect(
            try MasterWorkerMessageCodec.decode(.ping, from: Data(ping.utf8))
                == .ping(
                    HeartbeatPing(
                        sendTime: BeaconInstant(nanoseconds: 1000), fromWorker: try WorkerID("job-7-task-1"),
                        masterEpoch: Epoch(rawValue: 5),
                        workerEpoch: Epoch(rawValue: 7), isFinished: false)))
        let status =
            #"{"worker":"w","master-epoch":5,"status":{"state":4,"epoch":7,"error-message":"disk full","extend-bytes":[1,2]}}"#
        #expect(
            try MasterWorkerMessageCodec.decode(.status, from: Data(status.utf8))
                == .status(
                    WorkerStatusMessage(
                        worker: try WorkerID("w"), masterEpoch: Epoch(rawValue: 5),
                        status: WorkerStatus(
                            state: .error, epoch: Epoch(rawValue: 7), errorMessage: "disk full", extensionBytes: [1, 2])
                    )))
        let request = #"{"send-time":1,"from-master-id":"job-7","epoch":5,"expect-state":6,"project-id":"ignored"}"#
        #expect(try MasterWorkerMessageCodec.decode(.statusChange, from: Data(request.utf8)).kind == .statusChange)
    }

    @Test(arguments: [
        (MasterWorkerMessage.Kind.ping, #"{"send-time":1,"from-worker-id":"w","epoch":5,"is-finished":false}"#),
        (.ping, #"{"send-time":1,"from-worker-id":"","epoch":5,"worker-epoch":7,"is-finished":false}"#),
        (.pong, #"{"send-time":1,"reply-time":2,"to-worker-id":"w\u0007","epoch":5,"is-finished":true}"#),
        (.pong, #"{"send-time":-1,"reply-time":2,"to-worker-id":"w","epoch":5,"is-finished":true}"#),
        (
            .status,
            #"{"worker":"w","master-epoch":5,"status":{"state":7,"epoch":7,"error-message":"","extend-bytes":[]}}"#
        ),
        (.statusChange, #"{"send-time":1,"from-master-id":"job-7","epoch":"5","expect-state":6}"#),
        (.statusChange, "not json"),
    ])
    func malformedMessagesAreRefused(kind: MasterWorkerMessage.Kind, json: String) {
        #expect {
            try MasterWorkerMessageCodec.decode(kind, from: Data(json.utf8))
        } throws: { error in
            if case .invalidMessage = error as? MasterWorkerError { true } else { false }
        }
    }
}
