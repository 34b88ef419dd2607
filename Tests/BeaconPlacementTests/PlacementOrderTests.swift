import BeaconCore
import PropertyBased
import Testing

@testable import BeaconPlacement

/// The passes of round robin and of the load-aware orders.
@Suite struct PlacementOrderTests {
    static func drain<Pass: PlacementPass>(_ pass: inout Pass) -> [Int] {
        var visited: [Int] = []
        while let index = pass.nextRunner() {
            visited.append(index)
            pass.attemptEnded(placed: false)
        }
        return visited
    }

    static func runners(_ count: Int) -> [any Runner] {
        (0..<count).map { ScriptedRunner("r\($0)", always: .busy) }
    }

    @Test func roundRobinPassesVisitEveryRunnerOnceFromARotatingStart() {
        let order = RoundRobinOrder()
        let runners = Self.runners(3)
        var starts: [Int] = []
        for _ in 0..<6 {
            var pass = order.makePass(over: runners, key: 0)
            let visited = Self.drain(&pass)
            #expect(visited.sorted() == [0, 1, 2])
            starts.append(visited[0])
        }
        #expect(starts == [0, 1, 2, 0, 1, 2])
        var empty = order.makePass(over: [], key: 0)
        #expect(empty.nextRunner() == nil)
    }

    /// A custom order may start a pass from a hash read as a signed integer: any start is a
    /// runner's index, never one outside the list.
    @Test func aLinearPassFromAnyStartVisitsEveryRunnerOnce() async {
        var fromMinusOne = LinearPass(count: 3, start: -1)
        #expect(Self.drain(&fromMinusOne) == [2, 0, 1])
        var fromMinimum = LinearPass(count: 3, start: .min)
        #expect(Self.drain(&fromMinimum).sorted() == [0, 1, 2])
        await propertyCheck(count: 200, input: Gen.int(in: 1...50), Gen.int(in: Int.min...Int.max)) { count, start in
            var pass = LinearPass(count: count, start: start)
            #expect(Self.drain(&pass).sorted() == Array(0..<count))
        }
    }

    @Test func loadAwarePassesVisitEveryRunnerAtMostOnceAndReleaseEveryLease() async {
        await propertyCheck(count: 100, input: Gen.int(in: 1...100), Gen.int(in: 0...Int.max)) { count, seed in
            let bounded = try LoadAwareOrder(epsilon: 0.25)
            let twoChoices = LoadAwareOrder<PowerOfTwoChoicesPlacer>()
            let runners = Self.runners(count)
            var boundedPass = bounded.makePass(over: runners, key: UInt64(seed))
            var twoChoicesPass = twoChoices.makePass(over: runners, key: UInt64(seed))
            // Every runner refuses, so a pass must offer each of them exactly once.
            #expect(Self.drain(&boundedPass).sorted() == Array(0..<count))
            #expect(Self.drain(&twoChoicesPass).sorted() == Array(0..<count))
            #expect(bounded.balancer.loads.allSatisfy { $0 == 0 })
            #expect(twoChoices.balancer.loads.allSatisfy { $0 == 0 })
        }
    }

    @Test func boundedLoadSpillsAHotFunctionInsteadOfQueueingOnItsOwner() throws {
        let order = try LoadAwareOrder(epsilon: 0.25)
        let runners = Self.runners(4)
        var held: [LoadAwareOrder<BoundedLoadBalancer>.Pass] = []
        var chosen: [Int] = []
        // 40 calls of one function, all still running: each takes a lease and keeps it.
        for _ in 0..<40 {
            var pass = order.makePass(over: runners, key: 7)
            chosen.append(pass.nextRunner()!)
            held.append(pass)
        }
        let loads = order.balancer.loads
        let bound = Int((1.25 * 40 / 4).rounded(.up))
        #expect(loads.reduce(0, +) == 40)
        #expect(loads.allSatisfy { $0 <= bound })
        // The function's ring owner took the first call and is filled to the bound before anyone else.
        let owner = try RingPlacer(members: runners.map { PlacementMember($0.address) }).memberIndex(forHash: 7)
        #expect(chosen[0] == owner)
        #expect(loads[owner] == bound)
        for index in held.indices { held[index].attemptEnded(placed: true) }
        #expect(order.balancer.loads.allSatisfy { $0 == 0 })
    }

    @Test func theSameArrayIsRecognisedAndANewOneReplacesTheMembership() throws {
        let order = try LoadAwareOrder(epsilon: 0.25)
        let first = Self.runners(3)
        var pass = order.makePass(over: first, key: 1)
        let index = pass.nextRunner()!
        #expect(order.balancer.members.map(\.name) == ["r0", "r1", "r2"])
        // A new list with one more runner keeps the running call's count on its runner.
        let second = first + [ScriptedRunner("r3", always: .busy)]
        var next = order.makePass(over: second, key: 1)
        #expect(order.balancer.members.map(\.name) == ["r0", "r1", "r2", "r3"])
        #expect(order.balancer.loads[index] == 1)
        pass.attemptEnded(placed: true)
        #expect(Self.drain(&next).sorted() == [0, 1, 2, 3])
    }

    @Test func aMembershipChangeDuringAPassNeverAsksARunnerTwice() throws {
        let order = try LoadAwareOrder(epsilon: 0.1)
        let first = Self.runners(3)
        var pass = order.makePass(over: first, key: 5)
        var visited = [pass.nextRunner()!]
        pass.attemptEnded(placed: false)
        // Another placement fetches a different list, which becomes the membership mid-pass.
        let second: [any Runner] = [first[1], first[2], ScriptedRunner("r3", always: .busy)]
        _ = order.makePass(over: second, key: 5)
        #expect(order.balancer.members.map(\.name) == ["r1", "r2", "r3"])
        while let index = pass.nextRunner() {
            visited.append(index)
            pass.attemptEnded(placed: false)
        }
        #expect(visited.sorted() == [0, 1, 2])
        #expect(order.balancer.loads.allSatisfy { $0 == 0 })
    }

    @Test func duplicateAddressesFallBackToALinearPass() throws {
        let order = try LoadAwareOrder(epsilon: 0.25)
        let runners: [any Runner] = [ScriptedRunner("same", always: .busy), ScriptedRunner("same", always: .busy)]
        var pass = order.makePass(over: runners, key: 3)
        #expect(Self.drain(&pass).sorted() == [0, 1])
        #expect(order.balancer.loads.allSatisfy { $0 == 0 })
    }

    @Test func placerKindsFollowFnsSettingAndBuildEveryPlacer() {
        #expect(PlacerKind(fnPlacerSetting: "ch") == .consistentHash)
        #expect(PlacerKind(fnPlacerSetting: nil) == .naive)
        #expect(PlacerKind(fnPlacerSetting: "anything") == .naive)
        for kind in PlacerKind.allCases {
            #expect(kind.makePlacer().config == .default)
        }
    }
}
