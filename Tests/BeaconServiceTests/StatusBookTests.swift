#if GRPC
@testable import BeaconAgent
import BeaconDispatcher
import Testing

/// The agent's pure record of statuses: what each new session must be sent again.
@Suite struct StatusBookTests {
    private func update(_ task: String, _ state: TaskState) -> TaskStatusUpdate {
        TaskStatusUpdate(taskID: task, status: TaskStatus(state: state))
    }

    @Test func aNewSessionResendsEveryStatus() {
        var book = StatusBook()
        book.record(update("a", .running))
        book.record(update("b", .failed))
        book.acknowledged(book.nextBatch(limit: 10, maximumBytes: 1 << 20).batch)
        #expect(!book.hasUnsent)
        book.sessionStarted()
        #expect(
            book.nextBatch(limit: 10, maximumBytes: 1 << 20).batch == [update("a", .running), update("b", .failed)])
    }

    @Test func aStatusRecordedWhileItsBatchIsInFlightStaysQueued() {
        var book = StatusBook()
        book.record(update("a", .starting))
        let batch = book.nextBatch(limit: 10, maximumBytes: 1 << 20).batch
        book.record(update("a", .running))
        book.acknowledged(batch)
        #expect(book.nextBatch(limit: 10, maximumBytes: 1 << 20).batch == [update("a", .running)])
    }

    /// A refusal forgets the status it answered, not a newer one recorded meanwhile (a refusal
    /// that was not about the task, say, must not erase what the node reported since).
    @Test func aRefusalForgetsOnlyTheStatusItAnswered() {
        var book = StatusBook()
        book.record(update("a", .starting))
        book.record(update("b", .running))
        let refused = book.nextBatch(limit: 10, maximumBytes: 1 << 20).batch
        book.record(update("a", .running))
        for update in refused { book.refused(update) }
        #expect(book.statuses == ["a": TaskStatus(state: .running)])
        #expect(book.nextBatch(limit: 10, maximumBytes: 1 << 20).batch == [update("a", .running)])
    }

    @Test func aBatchFitsTheRequestLimit() {
        var book = StatusBook()
        let text = String(repeating: "x", count: 10_000)
        for task in ["a", "b", "c"] {
            book.record(TaskStatusUpdate(taskID: task, status: TaskStatus(state: .failed, error: text)))
        }
        #expect(book.nextBatch(limit: 10, maximumBytes: 25_000).batch.map(\.taskID) == ["a", "b"])
    }

    /// A manager that reads less than the agent's own budget allowed a status to take: that
    /// status waits for another manager, and the rest go out around it.
    @Test func aStatusLargerThanTheManagerReadsIsHeldAndTheOthersGo() {
        var book = StatusBook()
        book.record(update("a", .running))
        book.record(
            TaskStatusUpdate(
                taskID: "b", status: TaskStatus(state: .failed, error: String(repeating: "x", count: 2_000))))
        book.record(update("c", .running))
        let (batch, tooLarge) = book.nextBatch(limit: 10, maximumBytes: 1_024)
        #expect(batch.map(\.taskID) == ["a", "c"])
        #expect(tooLarge == ["b"])
        book.acknowledged(batch)
        #expect(book.unsentCount == 1)
        #expect(book.nextBatch(limit: 10, maximumBytes: 1 << 20).batch.map(\.taskID) == ["b"])
    }

    /// A task taken off the node's assignments is forgotten once its last status is
    /// acknowledged, so a caller that never reports nil does not keep every task it ever ran.
    @Test func aTaskThatLeftTheAssignmentsIsForgottenOnceItsStatusIsAcknowledged() {
        var book = StatusBook()
        for task in ["done", "kept", "late"] { book.record(update(task, .running)) }
        book.acknowledged(book.nextBatch(limit: 10, maximumBytes: 1 << 20).batch)
        book.record(update("late", .complete))
        book.assignmentsSettled(["kept"])
        // "done" was acknowledged and left: gone. "late" waits for its last status's answer.
        #expect(book.statuses.keys.sorted() == ["kept", "late"])
        let batch = book.nextBatch(limit: 10, maximumBytes: 1 << 20).batch
        #expect(batch == [update("late", .complete)])
        book.acknowledged(batch)
        #expect(book.statuses.keys.sorted() == ["kept"])
        book.sessionStarted()
        #expect(book.nextBatch(limit: 10, maximumBytes: 1 << 20).batch == [update("kept", .running)])
        // A status recorded before any set settles, or for a task in the set, is kept.
        var fresh = StatusBook()
        fresh.record(update("a", .running))
        fresh.acknowledged(fresh.nextBatch(limit: 10, maximumBytes: 1 << 20).batch)
        #expect(fresh.statuses.keys.sorted() == ["a"])
    }

    @Test func batchesAreLimitedAndAForgottenTaskIsNotResent() {
        var book = StatusBook()
        for task in ["c", "a", "b"] { book.record(update(task, .running)) }
        #expect(book.nextBatch(limit: 2, maximumBytes: 1 << 20).batch.map(\.taskID) == ["a", "b"])
        book.record(TaskStatusUpdate(taskID: "a", status: nil))
        book.sessionStarted()
        #expect(book.nextBatch(limit: 10, maximumBytes: 1 << 20).batch.map(\.taskID) == ["b", "c"])
    }
}
#endif
