import BeaconCore
import Testing

@testable import BeaconDispatcher

/// The status batcher's flush rules on their own: no dispatcher, no store, no clock; the time is
/// whatever instant each call passes.
@Suite struct StatusBatcherTests {
    private let start = BeaconInstant(nanoseconds: 1_000_000_000)

    private func batcher(limit: Int = 3) -> StatusBatcher {
        var batcher = StatusBatcher(limit: limit, interval: .milliseconds(100))
        batcher.restartInterval(at: start)
        return batcher
    }

    @Test func nothingQueuedIsNeverDue() {
        var batcher = batcher()
        let late = start.advanced(by: .seconds(60))
        #expect(!batcher.isFlushDue(at: late))
        #expect(batcher.nextFlush(after: late) == nil)
        let batch = batcher.takeBatch(at: late, term: 1)
        #expect(batch == nil)
        #expect(batcher.flushes == 0)
    }

    @Test func aQueuedWriteIsDueWhenTheIntervalHasPassedNotBefore() {
        var batcher = batcher()
        batcher.queueTaskStatus("t1", TaskStatus(state: .running))
        #expect(!batcher.isFlushDue(at: start.advanced(by: .milliseconds(99))))
        #expect(batcher.nextFlush(after: start) == start.advanced(by: .milliseconds(100)))
        #expect(batcher.isFlushDue(at: start.advanced(by: .milliseconds(100))))
    }

    @Test func aFullBatchIsDueAtOnce() {
        var batcher = batcher(limit: 3)
        let node = nodeID("n")
        batcher.queueTaskStatus("t1", TaskStatus(state: .running))
        batcher.queueOrphanTasks(of: node)
        #expect(!batcher.isFlushDue(at: start))
        batcher.queueNodeStatus(node, NodeStatus(state: .ready), description: nil)
        #expect(batcher.isFlushDue(at: start))
        #expect(batcher.nextFlush(after: start) == start)
    }

    @Test func theLastWritePerTaskAndNodeWinsAndADownKeepsTheDescription() throws {
        var batcher = batcher()
        let node = nodeID("n")
        let description = NodeDescription(hostname: "worker-1")
        batcher.queueTaskStatus("t1", TaskStatus(state: .starting))
        batcher.queueTaskStatus("t1", TaskStatus(state: .running))
        batcher.queueNodeStatus(node, NodeStatus(state: .ready), description: description)
        batcher.queueNodeStatusKeepingDescription(node, NodeStatus(state: .down, message: "heartbeat failure"))
        #expect(batcher.pendingCount == 2)
        let takenBatch = batcher.takeBatch(at: start.advanced(by: .milliseconds(100)), term: 1)
        let batch = try #require(takenBatch)
        #expect(
            Set(batch.writes) == [
                .taskStatus(taskID: "t1", TaskStatus(state: .running)),
                .nodeStatus(node, NodeStatus(state: .down, message: "heartbeat failure"), description: description),
            ])
        #expect(batcher.pendingCount == 0)
        #expect(batcher.flushes == 1 && batcher.writeCount == 2)
    }

    /// SwarmKit's missed wake-up: a registration that queues just after a batch was taken waits
    /// for the next batch, not for the commit of the one already in flight.
    @Test func aWaiterQueuedAfterABatchWasTakenWaitsForTheNextOne() throws {
        var batcher = batcher()
        var resumed: [String] = []
        batcher.waitForNextBatch { _ in resumed.append("first") }
        let takenFirst = batcher.takeBatch(at: start.advanced(by: .milliseconds(100)), term: 1)
        let first = try #require(takenFirst)
        batcher.waitForNextBatch { _ in resumed.append("second") }
        for resume in batcher.committed(first) { resume(nil) }
        #expect(resumed == ["first"])
        // A waiter alone makes a batch due (empty), so the registration is not stranded.
        #expect(batcher.isFlushDue(at: start.advanced(by: .milliseconds(200))))
        let takenSecond = batcher.takeBatch(at: start.advanced(by: .milliseconds(200)), term: 1)
        let second = try #require(takenSecond)
        #expect(second.writes.isEmpty && second.generation == first.generation + 1)
        for resume in batcher.committed(second) { resume(nil) }
        #expect(resumed == ["first", "second"])
    }

    @Test func takingABatchRestartsTheInterval() throws {
        var batcher = batcher()
        batcher.queueTaskStatus("t1", TaskStatus(state: .running))
        let taken = batcher.takeBatch(at: start.advanced(by: .milliseconds(150)), term: 1)
        #expect(taken != nil)
        batcher.queueTaskStatus("t2", TaskStatus(state: .running))
        #expect(!batcher.isFlushDue(at: start.advanced(by: .milliseconds(249))))
        #expect(batcher.isFlushDue(at: start.advanced(by: .milliseconds(250))))
    }

    @Test func stoppingHandsBackEveryWaiter() {
        var batcher = batcher()
        var outcomes: [DispatcherError?] = []
        batcher.waitForNextBatch { outcomes.append($0) }
        batcher.waitForNextBatch { outcomes.append($0) }
        for resume in batcher.takeWaiters() { resume(.stopped) }
        #expect(outcomes == [.stopped, .stopped])
        let left = batcher.takeWaiters()
        #expect(left.isEmpty)
    }
}
