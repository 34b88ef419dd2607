import PropertyBased
import Testing

@testable import BeaconScheduler

/// mgmt's strategies (§A.6, acceptance items 1–4), and the two added ones.
@Suite struct StrategyTests {
    private let group = try! GroupPath("/sched/web")

    private func input(_ hosts: [String], max: Int, state: String? = nil) -> StrategyInput {
        StrategyInput(
            group: group, hosts: hosts.sorted().map { SchedulingHost($0) }, maxCount: max, previousState: state)
    }

    @Test func roundRobinIsStickyAndNewcomersQueueAtTheEnd() throws {
        let rr = RoundRobinStrategy()
        var decision = try rr.schedule(input(["h1", "h2", "h3"], max: 2))
        #expect(decision.hosts == ["h1", "h2"])
        decision = try rr.schedule(input(["h1", "h3"], max: 2, state: decision.state))
        #expect(decision.hosts == ["h1", "h3"])
        decision = try rr.schedule(input(["h1", "h2", "h3"], max: 2, state: decision.state))
        #expect(decision.hosts == ["h1", "h3"])
        #expect(decision.state == "h1,h3,h2")
        decision = try rr.schedule(input(["h2", "h3"], max: 2, state: decision.state))
        #expect(Set(decision.hosts) == ["h2", "h3"])
    }

    @Test func roundRobinWithAMaximumAboveTheHostCountChoosesAll() throws {
        #expect(try RoundRobinStrategy().schedule(input(["b", "a"], max: 5)).hosts == ["a", "b"])
    }

    @Test(arguments: StrategyRegistry.standard.names)
    func everyBuiltInRefusesZeroHostsAndAZeroMaximum(name: String) throws {
        let strategy = try StrategyRegistry.standard.strategy(named: name)
        #expect(throws: SchedulerError.strategyFailed("cannot schedule from zero hosts")) {
            _ = try strategy.schedule(input([], max: 1))
        }
        #expect(throws: SchedulerError.strategyFailed("cannot schedule with a max of zero")) {
            _ = try strategy.schedule(input(["a"], max: 0))
        }
    }

    @Test func alphaChoosesTheFirstHostsByName() throws {
        #expect(try AlphabeticalStrategy().schedule(input(["c", "a", "b"], max: 2)).hosts == ["a", "b"])
        #expect(try AlphabeticalStrategy().schedule(input(["c", "a", "b"], max: 1)).hosts == ["a"])
    }

    @Test func theRegistryRefusesDuplicatesAndUnknownNames() throws {
        var registry = StrategyRegistry.standard
        #expect(registry.names == ["alpha", "ring", "rr", "weighted"])
        #expect(throws: SchedulerError.strategyAlreadyRegistered("rr")) {
            try registry.register(AlphabeticalStrategy(), as: "rr")
        }
        #expect(throws: SchedulerError.unknownStrategy("nope")) { _ = try registry.strategy(named: "nope") }
        try registry.register(AlphabeticalStrategy(), as: "first")
        #expect(throws: Never.self) { _ = try registry.strategy(named: "first") }
        #expect(SchedulerError.unknownStrategy("nope").description == "scheduler: undefined strategy: nope")
    }

    /// Across many groups, a joining host takes only groups from others (never reshuffles groups
    /// among the old hosts), and about its fair share of them.
    @Test(arguments: [RingStrategy.name, WeightedStrategy.name])
    func aJoinMovesOnlyGroupsToTheNewcomer(name: String) throws {
        let strategy = try StrategyRegistry.standard.strategy(named: name)
        let hosts = (0..<20).map { "host-\($0)" }
        var moved = 0
        let groups = 2_000
        for g in 0..<groups {
            let path = try GroupPath("/g/\(g)")
            let before = try strategy.schedule(
                StrategyInput(
                    group: path, hosts: hosts.sorted().map { SchedulingHost($0) }, maxCount: 1, previousState: nil))
            let after = try strategy.schedule(
                StrategyInput(
                    group: path, hosts: (hosts + ["host-new"]).sorted().map { SchedulingHost($0) }, maxCount: 1,
                    previousState: before.state))
            if after.hosts != before.hosts {
                #expect(after.hosts == ["host-new"])
                moved += 1
            }
        }
        // The ideal is groups / 21 ≈ 95; allow sampling noise.
        #expect(moved > groups / 21 / 2 && moved < groups / 21 * 2)
    }

    /// The bounded-load ring never gives a host more than its rounded-up share of a group's
    /// table, so across groups every host's count stays near the mean.
    @Test func ringSpreadsGroupsEvenly() throws {
        let ring = RingStrategy()
        let hosts = (0..<10).map { SchedulingHost("host-\($0)") }
        var counts: [String: Int] = [:]
        for g in 0..<5_000 {
            let decision = try ring.schedule(
                StrategyInput(group: try GroupPath("/g/\(g)"), hosts: hosts, maxCount: 1, previousState: nil))
            counts[decision.hosts[0], default: 0] += 1
        }
        #expect(counts.count == 10)
        #expect(counts.values.allSatisfy { $0 > 350 && $0 < 650 })
    }

    @Test func weightedFollowsTheAdvertisedWeights() throws {
        let weighted = WeightedStrategy()
        let hosts = [SchedulingHost("big", weight: 3), SchedulingHost("small", weight: 1)]
        var big = 0
        for g in 0..<4_000 {
            let decision = try weighted.schedule(
                StrategyInput(group: try GroupPath("/g/\(g)"), hosts: hosts, maxCount: 1, previousState: nil))
            if decision.hosts == ["big"] { big += 1 }
        }
        #expect(big > 2_800 && big < 3_200)
    }

    /// Property: whatever the hosts and history, every strategy returns at most `maxCount`
    /// distinct hosts, all present (and after a fail-over, rr continues from the stored state).
    @Test func decisionsAreDistinctPresentAndBounded() async {
        await propertyCheck(input: Gen.int(in: 1...12).array(of: 1...8), Gen.int(in: 1...5)) { rounds, maxCount in
            for name in StrategyRegistry.standard.names {
                let strategy = try! StrategyRegistry.standard.strategy(named: name)
                var state: String?
                for count in rounds {
                    let hosts = (0..<count).map { SchedulingHost("h\($0 * 7 % 13)") }
                    let unique = Array(Set(hosts)).sorted { $0.name < $1.name }
                    let decision = try! strategy.schedule(
                        StrategyInput(group: group, hosts: unique, maxCount: maxCount, previousState: state))
                    #expect(decision.hosts.count == min(maxCount, unique.count))
                    #expect(Set(decision.hosts).count == decision.hosts.count)
                    #expect(Set(decision.hosts).isSubset(of: Set(unique.map(\.name))))
                    state = decision.state
                }
            }
        }
    }
}
