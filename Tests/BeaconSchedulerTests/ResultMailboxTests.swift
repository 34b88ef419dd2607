import Testing

@testable import BeaconScheduler

/// What a participant's reader is told: each set once, errors in band.
@Suite struct ResultMailboxTests {
    @Test func anEqualSetIsToldOnceUntilTheLeaseIsLost() async throws {
        let mailbox = ResultMailbox()
        mailbox.publish(["a"])
        mailbox.publish(["a"])
        #expect(try await mailbox.next() == ["a"])
        // A leader that lost its lease stepped down; the same set, learnt after it registered
        // again, is what tells it that it leads again (DispatcherLeadership waited for it).
        mailbox.report(.leaseLost)
        mailbox.publish(["a"])
        await #expect(throws: SchedulerError.leaseLost) { try await mailbox.next() }
        #expect(try await mailbox.next() == ["a"])
        mailbox.publish(["a"])
        mailbox.finish()
        #expect(try await mailbox.next() == nil)
    }
}
