import BeaconCore
import Foundation
import FuzzReplay
import Testing

@testable import BeaconAgent

/// The agent's assignment follower, without gRPC: the committed `AgentStreamFuzz` inputs
/// replayed through the harness the libFuzzer target runs, proof that the harness notices a
/// follower out of step with the manager, and the reopen schedule the agent keeps.
@Suite struct AgentStreamFuzzTests {
    @Test(arguments: FuzzCorpus.inputs(of: "AgentStreamFuzz"))
    func agentStreamFuzzInput(_ file: URL) throws {
        #expect(try FuzzCorpus.failure(replaying: file, through: AgentStreamFuzzHarness.run) == nil)
    }

    /// A scenario whose follower settled on the manager's first set, with a second change sent.
    private func scenarioAwaitingAnIncremental() throws -> AgentStreamScenario {
        var scenario = try AgentStreamScenario(byteBudget: 256)
        #expect(try scenario.openStream() == nil)
        try scenario.manager.assignTask(id: 1, desired: .running, specBytes: 4)
        try scenario.manager.assignOther(kind: .secret, id: 1, payloadBytes: 8)
        try scenario.publish()
        #expect(try scenario.drain() == nil)
        try scenario.manager.assignTask(id: 2, desired: .running, specBytes: 4)
        try scenario.publish()
        return scenario
    }

    /// The harness is not vacuous: a follower that forgot its set behind the harness's back
    /// refuses the manager's next diff, and the harness reports it.
    @Test func harnessReportsAFollowerThatLostItsSet() throws {
        var scenario = try scenarioAwaitingAnIncremental()
        var untouched = scenario
        #expect(try untouched.drain() == nil)
        scenario.follower.streamOpened()
        #expect(try scenario.drain() != nil)
    }

    /// The harness is not vacuous: a well-formed forged COMPLETE set (empty, at the manager's
    /// sequence number) slipped to the follower unseen makes the manager's next diff fail its
    /// digest, and the harness reports it.
    @Test func harnessReportsAForgedSet() throws {
        var scenario = try scenarioAwaitingAnIncremental()
        let sequence = scenario.manager.sequence
        let forged = try #require(
            try AssignmentEncoder(byteBudget: 256).encode(AssignmentDiff(), as: .complete, after: sequence - 2).first)
        #expect(forged.resultsIn == sequence - 1)
        _ = scenario.follower.receive(
            kind: 1, appliesTo: forged.appliesTo, resultsIn: forged.resultsIn, diff: forged.bytes)
        #expect(try scenario.drain() != nil)
    }

    /// A manager that keeps sending what cannot apply is asked again at once, then after a
    /// doubling delay, and after five reopens in a row the session is given up; a COMPLETE set
    /// that applies starts the count again.
    @Test func followerBacksOffThenGivesUp() throws {
        let encoder = try AssignmentEncoder(byteBudget: 256)
        let assignment = Assignment(key: try AssignmentKey(.secret, id: 1), version: 1, payload: [1, 2, 3])
        let set = try AssignmentSet([assignment])
        let complete = try #require(
            try encoder.encode(AssignmentDiff(from: AssignmentSet(), to: set), as: .complete, after: 0).first)
        let incremental = try #require(
            try encoder.encode(AssignmentDiff(from: set, to: AssignmentSet()), as: .incremental, after: 1).first)
        var follower = AssignmentFollower(byteBudget: 256)
        func receive(_ message: AssignmentMessage) -> AssignmentFollower.Action {
            follower.receive(
                kind: Int(message.kind.rawValue), appliesTo: message.appliesTo, resultsIn: message.resultsIn,
                diff: message.bytes)
        }
        var delays: [Duration] = []
        for _ in 1...AssignmentFollower.maximumReopens {
            follower.streamOpened()
            guard case .reopen(.awaitingComplete, let delay) = receive(incremental) else {
                Issue.record("an INCREMENTAL before any COMPLETE did not ask for a reopen")
                return
            }
            delays.append(delay)
        }
        #expect(delays == [.zero, .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600)])
        follower.streamOpened()
        #expect(receive(incremental) == .giveUp(.awaitingComplete(resultsIn: 2)))
        #expect(receive(complete) == .settled(tasks: [], complete: true, bytes: complete.bytes.count))
        #expect(follower.reopens == 0)
        #expect(receive(incremental) == .settled(tasks: [], complete: false, bytes: incremental.bytes.count))
    }

    /// A stream the manager ended because the agent read it too slowly is reopened at once, and
    /// counts like a gap: a manager that keeps ending it is asked again less and less often, then
    /// the session is given up; a COMPLETE set that applies starts the count again.
    @Test func aStreamEndedBehindIsReopenedAndCountedLikeAGap() throws {
        let encoder = try AssignmentEncoder(byteBudget: 256)
        let complete = try #require(
            try encoder.encode(AssignmentDiff(from: AssignmentSet(), to: AssignmentSet()), as: .complete, after: 0)
                .first)
        var follower = AssignmentFollower(byteBudget: 256)
        let delays = (1...AssignmentFollower.maximumReopens).map { _ in follower.streamEndedBehind() }
        #expect(delays == [.zero, .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600)])
        #expect(follower.streamEndedBehind() == nil)
        follower.streamOpened()
        let applied = follower.receive(
            kind: Int(complete.kind.rawValue), appliesTo: complete.appliesTo, resultsIn: complete.resultsIn,
            diff: complete.bytes)
        #expect(applied == .settled(tasks: [], complete: true, bytes: complete.bytes.count))
        #expect(follower.streamEndedBehind() == .zero)
    }

    /// A message whose wire copies of the header disagree with its diff is refused whole.
    @Test func followerRefusesCopiesThatDisagree() throws {
        let encoder = try AssignmentEncoder(byteBudget: 256)
        let set = try AssignmentSet([Assignment(key: try AssignmentKey(.config, id: 4), version: 2, payload: [9])])
        let complete = try #require(
            try encoder.encode(AssignmentDiff(from: AssignmentSet(), to: set), as: .complete, after: 0).first)
        var follower = AssignmentFollower(byteBudget: 256)
        guard
            case .refuse(.headerMismatch) = follower.receive(kind: 2, appliesTo: 0, resultsIn: 1, diff: complete.bytes)
        else {
            Issue.record("a COMPLETE diff sent as INCREMENTAL was not refused")
            return
        }
        let truncated = Array(complete.bytes.dropLast())
        guard case .refuse(.malformedDiff) = follower.receive(kind: 1, appliesTo: 0, resultsIn: 1, diff: truncated)
        else {
            Issue.record("a truncated diff was not refused")
            return
        }
        #expect(follower.table.isEmpty && follower.bytesReceived == 0 && follower.lastApplied == nil)
        let applied = follower.receive(kind: 1, appliesTo: 0, resultsIn: 1, diff: complete.bytes)
        #expect(applied == .settled(tasks: [], complete: true, bytes: complete.bytes.count))
    }
}
