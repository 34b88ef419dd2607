import BeaconCore
import BeaconMasterWorker
import Synchronization
import Testing

/// A master reads its pings and a worker its pongs from a ``MessageMailbox``: in arrival order, a
/// whole batch per wake-up, never more than its capacity, and after a close only what was queued
/// before it. The transport must stop routing to a closed mailbox and free its topics.
@Suite(.timeLimit(.minutes(1))) struct MessageMailboxTests {
    let master = Fixture.master()
    let masterNode = Fixture.executor("master-node")
    let workerNode = Fixture.executor("worker-node")

    func ping(_ worker: String) -> MasterWorkerMessage {
        .ping(
            HeartbeatPing(
                sendTime: .zero, fromWorker: Fixture.worker(worker), masterEpoch: Epoch(rawValue: 1),
                workerEpoch: Epoch(rawValue: 1), isFinished: false))
    }

    func delivery(_ worker: String) -> MessageDelivery {
        MessageDelivery(topic: "t", sender: workerNode, message: ping(worker))
    }

    @Test func aBatchHoldsEverythingQueuedInArrivalOrder() async throws {
        let mailbox = try MessageMailbox(capacity: 8)
        for worker in ["a", "b", "c"] { #expect(mailbox.deliver(delivery(worker))) }
        #expect(await mailbox.nextBatch() == ["a", "b", "c"].map(delivery))
        #expect(mailbox.deliver(delivery("d")))
        #expect(await mailbox.nextBatch() == [delivery("d")])
    }

    @Test func aFullMailboxRefusesUntilItsOwnerTakesTheBatch() async throws {
        let transport = InProcessTransport()
        let topic = MasterWorkerTopic.ping(master: master)
        let pings = try transport.mailbox(on: masterNode, topics: [topic], capacity: 2)
        func send(_ worker: String) -> Bool {
            transport.trySend(ping(worker), topic: topic, from: workerNode, to: masterNode)
        }
        #expect(send("a") && send("b"))
        #expect(!send("c"))
        #expect(await pings.nextBatch()?.map(\.message) == [ping("a"), ping("b")])
        #expect(send("c"))
    }

    @Test func aClosedMailboxHandsOverWhatWasQueuedThenEnds() async throws {
        let closes = Atomic<Int>(0)
        let mailbox = try MessageMailbox(capacity: 8) { closes.add(1, ordering: .relaxed) }
        #expect(mailbox.deliver(delivery("a")))
        mailbox.close()
        mailbox.close()
        #expect(!mailbox.deliver(delivery("b")))
        #expect(await mailbox.nextBatch() == [delivery("a")])
        #expect(await mailbox.nextBatch() == nil)
        #expect(closes.load(ordering: .relaxed) == 1)
    }

    @Test func aWaitingOwnerWakesForADeliveryAndForTheClose() async throws {
        let mailbox = try MessageMailbox(capacity: 8)
        let reader = Task { () -> [[MessageDelivery]] in
            var batches: [[MessageDelivery]] = []
            while let batch = await mailbox.nextBatch() { batches.append(batch) }
            return batches
        }
        // Whether the reader parked before the delivery or not, it must see it, then the end.
        #expect(mailbox.deliver(delivery("a")))
        mailbox.close()
        #expect(await reader.value.flatMap { $0 } == [delivery("a")])
    }

    @Test func aCancelledOwnerStopsWaiting() async throws {
        let mailbox = try MessageMailbox(capacity: 8)
        let reader = Task { await mailbox.nextBatch() }
        reader.cancel()
        #expect(await reader.value == nil)
    }

    @Test func theTransportForgetsAClosedMailboxAndFreesItsTopics() async throws {
        let transport = InProcessTransport()
        let topic = MasterWorkerTopic.ping(master: master)
        let first = try transport.mailbox(on: masterNode, topics: [topic], capacity: 4)
        #expect(throws: MasterWorkerError.self) {
            _ = try transport.mailbox(on: masterNode, topics: [topic], capacity: 4)
        }
        first.close()
        #expect(!transport.trySend(ping("a"), topic: topic, from: workerNode, to: masterNode))
        let second = try transport.mailbox(on: masterNode, topics: [topic], capacity: 4)
        #expect(transport.trySend(ping("a"), topic: topic, from: workerNode, to: masterNode))
        #expect(await second.nextBatch()?.map(\.message) == [ping("a")])
    }

    @Test func aMailboxDroppedWithoutACloseFreesItsTopics() throws {
        let transport = InProcessTransport()
        let topic = MasterWorkerTopic.ping(master: master)
        do {
            let dropped = try transport.mailbox(on: masterNode, topics: [topic], capacity: 4)
            #expect(dropped.capacity == 4)
        }
        #expect(!transport.trySend(ping("a"), topic: topic, from: workerNode, to: masterNode))
        let next = try transport.mailbox(on: masterNode, topics: [topic], capacity: 4)
        #expect(transport.trySend(ping("a"), topic: topic, from: workerNode, to: masterNode))
        next.close()
    }

    @Test func aMailboxNeedsRoomForOneMessage() {
        #expect(throws: MasterWorkerError.invalidConfiguration("a mailbox capacity must be positive, got 0")) {
            _ = try MessageMailbox(capacity: 0)
        }
        #expect(throws: MasterWorkerError.self) {
            _ = try InProcessTransport().mailbox(on: masterNode, topics: ["t"], capacity: -1)
        }
    }
}
