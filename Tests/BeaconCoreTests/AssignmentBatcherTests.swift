import Testing

@testable import BeaconCore

/// `milliseconds` after the virtual clock's origin.
private func at(_ milliseconds: UInt64) -> BeaconInstant {
    BeaconInstant(nanoseconds: milliseconds * 1_000_000)
}

/// SwarmKit's assignment batching cases (A10.2 of the seed spec) on the batcher, in virtual time.
@Suite struct AssignmentBatcherTests {
    typealias Batcher = AssignmentBatcher<BeaconInstant>

    /// A batcher that has sent its initial COMPLETE set of `initial`, and an applier that got it.
    static func started(_ initial: [Assignment] = [], configuration: AssignmentBatcherConfiguration = .swarmKit) throws
        -> (Batcher, AssignmentApplier)
    {
        var batcher = Batcher(configuration: configuration)
        for item in initial { try batcher.upsert(item.key, version: item.version, payload: item.payload, at: at(0)) }
        var applier = AssignmentApplier()
        #expect(batcher.isFlushDue(at: at(0)), "the COMPLETE set is due at once")
        let complete = try batcher.flush()
        #expect(complete.count == 1 && complete[0].kind == .complete && complete[0].changeCount == initial.count)
        try applier.apply(complete[0])
        return (batcher, applier)
    }

    @Test func theFirstMessageIsCompleteEvenWhenEmpty() throws {
        var batcher = Batcher()
        let messages = try batcher.flushIfDue(at: at(0))
        #expect(
            messages.count == 1 && messages[0].kind == .complete && messages[0].resultsIn == 1
                && messages[0].appliesTo == 0)
        #expect(!batcher.isFlushDue(at: at(10_000)))
        #expect(try batcher.flush().isEmpty, "nothing changed, nothing to send")
    }

    @Test func createUpdateAndDeleteInOneWindowSendOnlyTheRemoval() throws {
        var (batcher, applier) = try Self.started()
        try batcher.upsert(key(1), version: 1, payload: [1], at: at(10))
        try batcher.upsert(key(1), version: 2, payload: [2], at: at(20))
        batcher.remove(key(1), at: at(30))
        let messages = try batcher.flushIfDue(at: at(130))
        #expect(messages.count == 1)
        #expect(messages[0].changes == [.removal(key(1))])
        #expect(messages[0].kind == .incremental && messages[0].appliesTo == 1 && messages[0].resultsIn == 2)
        try applier.apply(messages[0])
        #expect(applier.table.isEmpty)
    }

    @Test func anUpdateThenARemovalOfAHeldTaskSendsTheRemoval() throws {
        var (batcher, applier) = try Self.started([assignment(1, 1, "a"), assignment(2, 1, "b")])
        try batcher.upsert(key(1), version: 2, payload: Array("a2".utf8), at: at(10))
        batcher.remove(key(1), at: at(20))
        try batcher.upsert(key(2), version: 2, payload: Array("b2".utf8), at: at(30))
        try batcher.upsert(key(2), version: 3, payload: Array("b3".utf8), at: at(40))
        let messages = try batcher.flushIfDue(at: at(140))
        #expect(
            messages.flatMap(\.changes) == [.removal(key(1)), .upsert(assignment(2, 3, "b3"))],
            "the last change per key wins")
        try applier.apply(messages[0])
        #expect(applier.table.snapshot() == batcher.table.snapshot())
    }

    @Test func aSameVersionUpdateNeitherCountsNorRestartsTheTimer() throws {
        var (batcher, _) = try Self.started([assignment(1, 5, "a")])
        #expect(try batcher.upsert(key(1), version: 5, payload: Array("a".utf8), at: at(10)) == false)
        #expect(batcher.pendingModifications == 0 && batcher.flushDeadline == nil)
        let removedAbsent = batcher.remove(key(9), at: at(10))
        #expect(!removedAbsent, "removing what is not held changes nothing")
        #expect(try batcher.flushIfDue(at: at(1_000)).isEmpty)

        try batcher.upsert(key(1), version: 6, payload: Array("a".utf8), at: at(20))
        #expect(batcher.flushDeadline == at(120))
        #expect(try batcher.upsert(key(1), version: 6, payload: Array("a".utf8), at: at(90)) == false)
        #expect(batcher.flushDeadline == at(120), "a no-op leaves the timer alone")
        #expect(batcher.pendingModifications == 1)
    }

    @Test func everyModificationRestartsTheDebounceTimer() throws {
        var (batcher, _) = try Self.started()
        try batcher.upsert(key(1), version: 1, payload: [], at: at(0))
        try batcher.upsert(key(2), version: 1, payload: [], at: at(60))
        #expect(!batcher.isFlushDue(at: at(100)), "60 ms after the last change is too early")
        #expect(try batcher.flushIfDue(at: at(159)).isEmpty)
        #expect(batcher.isFlushDue(at: at(160)))
        let messages = try batcher.flushIfDue(at: at(160))
        #expect(messages.count == 1 && messages[0].changeCount == 2)
        #expect(batcher.flushDeadline == nil && batcher.pendingModifications == 0)
    }

    @Test func aFullBatchIsDueAtOnceCountingModificationsNotKeys() throws {
        var (batcher, _) = try Self.started(configuration: try AssignmentBatcherConfiguration(maximumChanges: 100))
        for version in 1...99 { try batcher.upsert(key(1), version: UInt64(version), payload: [], at: at(0)) }
        #expect(!batcher.isFlushDue(at: at(0)))
        try batcher.upsert(key(1), version: 100, payload: [], at: at(0))
        #expect(batcher.isFlushDue(at: at(0)))
        let messages = try batcher.flush()
        #expect(
            messages.count == 1 && messages[0].changes == [.upsert(Assignment(key: key(1), version: 100, payload: []))])
    }

    @Test func aGapForcesACompleteResend() throws {
        var (batcher, applier) = try Self.started([assignment(1, 1, "a")])
        try batcher.upsert(key(2), version: 1, payload: [2], at: at(0))
        let lost = try batcher.flush()
        #expect(lost.count == 1)  // never delivered
        try batcher.upsert(key(3), version: 1, payload: [3], at: at(200))
        let next = try batcher.flush()
        #expect(throws: AssignmentApplyError.sequenceGap(lastApplied: 1, appliesTo: 2)) { try applier.apply(next[0]) }
        #expect(applier.needsComplete)

        batcher.requestComplete()
        #expect(batcher.isFlushDue(at: at(200)))
        let resend = try batcher.flush()
        #expect(resend.count == 1 && resend[0].kind == .complete && resend[0].resultsIn == 4)
        try applier.apply(resend[0])
        #expect(applier.table.snapshot() == batcher.table.snapshot())
        #expect(applier.table.count == 3)
    }

    @Test func batchesLargerThanTheBudgetSplit() throws {
        let configuration = try AssignmentBatcherConfiguration(maximumChanges: 1_000, byteBudget: 1024)
        var (batcher, applier) = try Self.started(configuration: configuration)
        for id in 0..<300 {
            try batcher.upsert(key(UInt64(id)), version: 1, payload: [UInt8](repeating: 1, count: 30), at: at(0))
        }
        let messages = try batcher.flushIfDue(at: at(100))
        #expect(messages.count > 5 && messages.allSatisfy { $0.bytes.count <= 1024 })
        for message in messages { try applier.apply(message) }
        #expect(applier.isSettled && applier.table.snapshot() == batcher.table.snapshot())
        #expect(throws: TaskDiffError.payloadTooLarge(key: key(1), bytes: 2000, limit: 1024 - 66)) {
            try batcher.upsert(key(1), version: 2, payload: [UInt8](repeating: 0, count: 2000), at: at(0))
        }
    }

    @Test func configurationsAreValidated() throws {
        #expect(throws: TaskDiffError.self) { try AssignmentBatcherConfiguration(debounce: .milliseconds(-1)) }
        #expect(throws: TaskDiffError.self) { try AssignmentBatcherConfiguration(maximumChanges: 0) }
        #expect(throws: TaskDiffError.self) { try AssignmentBatcherConfiguration(byteBudget: 10) }
        let standard = AssignmentBatcherConfiguration.swarmKit
        #expect(
            standard.debounce == .milliseconds(100) && standard.maximumChanges == 100 && standard.byteBudget == 1 << 20)
    }
}
