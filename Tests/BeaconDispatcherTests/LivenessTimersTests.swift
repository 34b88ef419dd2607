import BeaconCore
import Testing

@testable import BeaconDispatcher

/// UNKNOWN deadlines, registrations in flight and orphan timers on their own: no wheel, no
/// store, no clock.
@Suite struct LivenessTimersTests {
    private let start = BeaconInstant(nanoseconds: 1_000_000_000)
    private let node = nodeID("n")

    private func timers(unknownFor grace: Duration? = nil) -> LivenessTimers {
        var timers = LivenessTimers(orphanAfter: .seconds(60))
        if let grace { timers.startUnknown([(start.advanced(by: grace), node)]) }
        return timers
    }

    @Test func anUnknownNodeExpiresAtItsDeadlineNotBefore() {
        var timers = timers(unknownFor: .seconds(30))
        #expect(timers.nextDeadline == start.advanced(by: .seconds(30)))
        let early = timers.takeExpiredUnknown(at: start.advanced(by: .milliseconds(29_999)))
        #expect(early.isEmpty)
        #expect(timers.unknownCount == 1)
        let due = timers.takeExpiredUnknown(at: start.advanced(by: .seconds(30)))
        #expect(due == [node])
        #expect(timers.unknownCount == 0 && timers.nextDeadline == nil)
    }

    @Test func aRegistrationInFlightHoldsOffTheVerdictUntilItFails() {
        var timers = timers(unknownFor: .seconds(30))
        timers.beginRegistration(of: node)
        let expired = timers.takeExpiredUnknown(at: start.advanced(by: .seconds(31)))
        #expect(expired.isEmpty)
        #expect(timers.unknown(node) != nil)
        let verdict = timers.endRegistration(of: node, registered: false)
        #expect(verdict == .unknownGrace)
        #expect(timers.unknown(node) == nil)
    }

    @Test func aRegistrationThatSucceedsOverridesADeadlineThatPassedMeanwhile() {
        var timers = timers()
        timers.beginRegistration(of: node)
        let downWhileRegistering = timers.deadlinePassed(node)
        #expect(!downWhileRegistering)
        let verdict = timers.endRegistration(of: node, registered: true)
        #expect(verdict == nil)
        let downLater = timers.deadlinePassed(node)
        #expect(downLater)
    }

    @Test func twoRegistrationsInFlightDecideWhenTheLastEnds() {
        var timers = timers()
        timers.beginRegistration(of: node)
        timers.beginRegistration(of: node)
        let downWhileRegistering = timers.deadlinePassed(node)
        #expect(!downWhileRegistering)
        let firstVerdict = timers.endRegistration(of: node, registered: false)
        #expect(firstVerdict == nil)
        let lastVerdict = timers.endRegistration(of: node, registered: false)
        #expect(lastVerdict == .heartbeat)
    }

    @Test func aDownNodeIsOrphanedOnceAfterOrphanAfterUnlessItRegisters() {
        var timers = timers()
        let other = nodeID("other")
        timers.startOrphanTimer(node, at: start)
        timers.startOrphanTimer(other, at: start)
        // A restarted timer replaces the first: the node is orphaned once, at the later deadline.
        timers.startOrphanTimer(node, at: start.advanced(by: .seconds(10)))
        timers.beginRegistration(of: other)
        #expect(timers.downCount == 2)
        _ = timers.endRegistration(of: other, registered: true)
        #expect(timers.downCount == 1)
        let atFirstDeadline = timers.takeDueOrphans(at: start.advanced(by: .seconds(60)))
        #expect(atFirstDeadline.isEmpty)
        let atRestartedDeadline = timers.takeDueOrphans(at: start.advanced(by: .seconds(70)))
        #expect(atRestartedDeadline == [node])
        #expect(timers.orphaned == 1 && timers.downCount == 0 && timers.nextDeadline == nil)
    }

    /// A DOWN node that tries to register and fails every time is DOWN still, headed for
    /// orphaning at its first deadline: failed attempts are no evidence that it is back, and one
    /// retrying more often than `orphanAfter` would otherwise never be orphaned. One success ends
    /// the timer.
    @Test func aDownNodeIsOrphanedAtItsDeadlineThroughFailedRegistrations() {
        var timers = timers()
        timers.startOrphanTimer(node, at: start)
        for _ in 0..<3 {
            timers.beginRegistration(of: node)
            #expect(timers.isDown(node))
            #expect(timers.endRegistration(of: node, registered: false) == nil)
        }
        #expect(timers.takeDueOrphans(at: start.advanced(by: .milliseconds(59_999))).isEmpty)
        #expect(timers.takeDueOrphans(at: start.advanced(by: .seconds(60))) == [node])

        timers.startOrphanTimer(node, at: start)
        timers.beginRegistration(of: node)
        timers.beginRegistration(of: node)
        _ = timers.endRegistration(of: node, registered: true)
        _ = timers.endRegistration(of: node, registered: false)
        #expect(!timers.isDown(node) && timers.takeDueOrphans(at: start.advanced(by: .seconds(3600))).isEmpty)
    }

    /// An orphan timer that comes due while its node registers waits for the registration: a
    /// success ends it (the node is back, its tasks stay), a failure orphans the node then.
    @Test func anOrphanTimerDueDuringARegistrationWaitsForIt() {
        var timers = timers()
        timers.startOrphanTimer(node, at: start)
        timers.beginRegistration(of: node)
        #expect(timers.takeDueOrphans(at: start.advanced(by: .seconds(60))).isEmpty)
        #expect(timers.endRegistration(of: node, registered: false) == nil)
        #expect(timers.takeOrphansAfterFailedRegistrations() == [node])
        #expect(!timers.isDown(node) && timers.orphaned == 1)

        timers.startOrphanTimer(node, at: start)
        timers.beginRegistration(of: node)
        #expect(timers.takeDueOrphans(at: start.advanced(by: .seconds(60))).isEmpty)
        #expect(timers.endRegistration(of: node, registered: true) == nil)
        #expect(timers.takeOrphansAfterFailedRegistrations().isEmpty && timers.orphaned == 1)
        #expect(!timers.isDown(node))
    }

    @Test func theRateLimitCountsRegistrationsOfAnUnknownNodeWithinTheWindow() throws {
        var timers = timers(unknownFor: .seconds(30))
        for offset in 0..<3 {
            try timers.admitRegistration(
                ofUnknown: node, at: start.advanced(by: .seconds(offset)), window: .seconds(8), count: 3)
        }
        #expect(throws: DispatcherError.rateLimited(node: "n", attempts: 3, window: .seconds(8))) {
            try timers.admitRegistration(
                ofUnknown: node, at: start.advanced(by: .seconds(3)), window: .seconds(8), count: 3)
        }
        // Past the window since the last counted registration, the count starts over.
        try timers.admitRegistration(
            ofUnknown: node, at: start.advanced(by: .seconds(11)), window: .seconds(8), count: 3)
        #expect(timers.unknown(node)?.limit.attempts == 1)
    }
}
