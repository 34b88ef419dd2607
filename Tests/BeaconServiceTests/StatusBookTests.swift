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
    /// status's texts are cut to fit, on whole characters, its state kept, and the cut status is
    /// what the book holds from then on, so its acknowledgment clears it.
    @Test func aStatusLargerThanTheManagerReadsIsCutToFit() throws {
        var book = StatusBook()
        book.record(update("a", .running))
        let long = TaskStatus(state: .failed, message: "exit 1", error: String(repeating: "é", count: 2_000))
        book.record(TaskStatusUpdate(taskID: "b", status: long))
        book.record(update("c", .running))
        // Cut, it fits a report alone, not beside "a": it goes in the next.
        let (first, cut) = book.nextBatch(limit: 10, maximumBytes: 1_024)
        #expect(cut == ["b"])
        #expect(first.map(\.taskID) == ["a"])
        book.acknowledged(first)
        let (second, cutAgain) = book.nextBatch(limit: 10, maximumBytes: 1_024)
        #expect(cutAgain.isEmpty)
        #expect(second.map(\.taskID) == ["b"])
        let shortened = try #require(second.first?.status)
        #expect(shortened.state == .failed)
        #expect(shortened.message == "exit 1")
        #expect(shortened.error.hasSuffix(StatusBook.cutMarker))
        #expect(shortened.error.dropLast(StatusBook.cutMarker.count).allSatisfy { $0 == "é" })
        #expect(64 + StatusBook.encodedSize(of: second[0]) <= 1_024)
        book.acknowledged(second)
        #expect(book.nextBatch(limit: 10, maximumBytes: 1_024).batch.map(\.taskID) == ["c"])

        // Both texts long: the error keeps half the room, the message the rest.
        var both = StatusBook()
        let texts = TaskStatus(
            state: .failed, message: String(repeating: "m", count: 3_000), error: String(repeating: "e", count: 3_000))
        both.record(TaskStatusUpdate(taskID: "t", status: texts))
        let (single, _) = both.nextBatch(limit: 10, maximumBytes: 2_048)
        let status = try #require(single.first?.status)
        #expect(status.error.utf8.count >= status.message.utf8.count)
        #expect(64 + StatusBook.encodedSize(of: single[0]) <= 2_048)

        // A task id that alone leaves no room: nothing to cut, the status stays queued.
        var unfit = StatusBook()
        unfit.record(update(String(repeating: "t", count: 1_000), .failed))
        let (none, noneCut) = unfit.nextBatch(limit: 10, maximumBytes: 1_024)
        #expect(none.isEmpty && noneCut.isEmpty)
        #expect(unfit.unsentCount == 1)
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
