import Testing

@testable import BeaconCoordination
@testable import BeaconScheduler

/// The participant's logic as a pure function of its view of the group.
@Suite struct GroupStepTests {
    private let path = try! GroupPath("/g")

    private func view(_ values: [StoredValue]) -> GroupView {
        var view = GroupView(path: path)
        view.reset(to: StoreSnapshot(values: values, revision: values.map(\.modRevision).max() ?? 0))
        return view
    }

    private func identity(_ host: String, lease: Int64) -> ParticipantIdentity {
        ParticipantIdentity(path: path, hostname: host, lease: LeaseID(lease), exchange: ExchangeRecord(weight: 1))
    }

    private func registered(_ host: String, lease: Int64, at revision: Int64) -> [StoredValue] {
        [
            StoredValue(
                key: "/g/exchange/\(host)", value: "weight=1.0", createRevision: revision, modRevision: revision,
                lease: LeaseID(lease)),
            StoredValue(
                key: "/g/election/\(LeaseID(lease).hex)", value: host, createRevision: revision, modRevision: revision,
                lease: LeaseID(lease)),
        ]
    }

    private func step(_ view: GroupView, _ identity: ParticipantIdentity) -> GroupStep {
        GroupStep.compute(view: view, identity: identity, strategy: RoundRobinStrategy(), maxCount: 1, hostsFilter: nil)
    }

    @Test func anUnregisteredParticipantRegistersAndDoesNotLead() {
        let step = step(view(registered("a", lease: 1, at: 1)), identity("b", lease: 2))
        #expect(step.mustRegister && !step.isLeader && step.write == nil && step.result == nil)
    }

    @Test func theOldestCandidateWritesAFencedDecision() throws {
        let current = view(registered("b", lease: 2, at: 1) + registered("a", lease: 1, at: 2))
        let leader = step(current, identity("b", lease: 2))
        #expect(!leader.mustRegister && leader.isLeader)
        let write = try #require(leader.write)
        #expect(write.value == "a" && write.state == "a,b")
        #expect(write.fence.contains(.createRevision(key: "/g/election/2", equals: 1)))
        #expect(write.fence.contains(.modRevision(key: "/g/scheduled", equals: 0)))
        let follower = step(current, identity("a", lease: 1))
        #expect(!follower.isLeader && follower.write == nil)
    }

    /// Keys under the group's prefix that are not its members' entries (another group's nested
    /// in it, another writer's) are neither hosts nor candidates, however old they are.
    @Test func onlyTheGroupsOwnEntriesAreHostsAndCandidates() throws {
        let foreign = [
            "/g/election/scheduled", "/g/election/election/1", "/g/election/exchange/x", "/g/election/",
            "/g/exchange/exchange/y", "/g/exchange/election/1", "/g/election/12345678901234567",
        ].map { StoredValue(key: $0, value: "", createRevision: 1, modRevision: 1, lease: nil) }
        let current = view(foreign + registered("a", lease: 2, at: 5))
        #expect(current.leader?.key == "/g/election/2")
        #expect(current.hosts.map(\.name) == ["a"])
        let leader = step(current, identity("a", lease: 2))
        #expect(leader.isLeader && leader.write?.value == "a")
    }

    @Test func aStoredDecisionIsReportedAndNotRewritten() {
        let decided = view(
            registered("a", lease: 1, at: 1) + [
                StoredValue(key: "/g/scheduled", value: "a", createRevision: 2, modRevision: 2, lease: nil),
                StoredValue(key: "/g/strategy-state", value: "a", createRevision: 2, modRevision: 2, lease: nil),
            ])
        let step = step(decided, identity("a", lease: 1))
        #expect(step.isLeader && step.write == nil && step.result == ["a"])
    }

    /// The host name's key under another lease is another live participant's, registered after
    /// this one: this one stands by, told in band, instead of writing over it.
    @Test func aNameUnderAnotherLeaseIsLeftAloneAndReported() {
        let taken = view(registered("a", lease: 9, at: 1) + registered("a", lease: 1, at: 2).suffix(1))
        let step = step(taken, identity("a", lease: 1))
        #expect(!step.mustRegister)
        #expect(step.failure == .hostNameTaken(path: "/g", hostname: "a"))
        #expect(step.result == nil && step.write == nil)
    }

    /// Its own key missing, or its election key: it registers again.
    @Test func aMissingKeyOfItsOwnMeansRegisterAgain() {
        #expect(step(view(Array(registered("a", lease: 1, at: 1).suffix(1))), identity("a", lease: 1)).mustRegister)
        #expect(step(view(Array(registered("a", lease: 1, at: 1).prefix(1))), identity("a", lease: 1)).mustRegister)
    }

    @Test func theStrategysFailureIsReportedNotWritten() {
        var filtered = GroupStep.compute(
            view: view(registered("a", lease: 1, at: 1)), identity: identity("a", lease: 1),
            strategy: RoundRobinStrategy(),
            maxCount: 1, hostsFilter: ["z"])
        #expect(filtered.failure == .strategyFailed("cannot schedule from zero hosts"))
        filtered.failure = nil
        #expect(filtered.write == nil)
    }
}
