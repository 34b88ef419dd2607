import BeaconCore
import Testing

@testable import BeaconClient

/// Consul's `manager_test.go` and `manager_internal_test.go` (spec §B.10), in Swift Testing.
@Suite struct ServerManagerTests {
    @Test func addingKnownNamesUpdatesInPlace() {
        let m = manager()
        #expect(m.count == 0)
        m.add(server("s1"))
        #expect(m.count == 1)
        m.add(server("s1"))
        #expect(m.count == 1)
        m.add(server("s2"))
        #expect(m.count == 2)
        m.add(try! ManagedServer(name: "s1", address: "10.9.9.9:8300"))
        #expect(m.servers.map(\.name) == ["s1", "s2"] && m.find()?.address == "10.9.9.9:8300")
    }

    /// A server the client was sent to goes to the front, once, whether it was listed or not.
    @Test func aPreferredServerGoesToTheFront() {
        let m = manager()
        m.prefer(server("s3"))
        #expect(!m.isOffline && m.servers.map(\.name) == ["s3"])
        m.add(server("s1"))
        m.add(server("s2"))
        m.prefer(server("s2"))
        #expect(m.servers.map(\.name) == ["s2", "s3", "s1"])
        m.prefer(try! ManagedServer(name: "s1", address: "10.9.9.9:8300"))
        #expect(m.servers.map(\.name) == ["s1", "s2", "s3"] && m.find()?.address == "10.9.9.9:8300")
    }

    @Test func offlineUntilAServerIsSeenAndAfterARebalanceFindsNone() async {
        let m = manager()
        #expect(m.isOffline)
        m.add(server("s1"))
        #expect(!m.isOffline)
        await m.rebalance()
        #expect(!m.isOffline)
        m.remove(named: "s1")
        await m.rebalance()
        #expect(m.isOffline)
        let flaky = manager(FauxPinger(failFraction: 0.5))
        flaky.add(server("s1"))
        var states: Set<Bool> = []
        for _ in 0..<100 {
            await flaky.rebalance()
            states.insert(flaky.isOffline)
        }
        #expect(states == [true, false])
    }

    @Test func findReturnsTheFrontAndNotifyRotatesIt() {
        let m = manager()
        #expect(m.find() == nil)
        m.add(server("s1"))
        #expect(m.find()?.name == "s1" && m.find()?.name == "s1")
        m.add(server("s2"))
        #expect(m.find()?.name == "s1")
        m.notifyFailed(server("s1"))
        #expect(m.find()?.name == "s2")
        m.notifyFailed(server("s2"))
        #expect(m.find()?.name == "s1")
    }

    @Test func onlyTheFrontServerCanBeFailed() {
        let m = manager()
        m.notifyFailed(server("unknown"))
        #expect(m.count == 0)
        m.add(server("s1"))
        m.notifyFailed(server("s1"))
        #expect(m.find()?.name == "s1" && m.count == 1)
        m.add(server("s2"))
        m.notifyFailed(server("s2"))
        #expect(m.find()?.name == "s1")
        m.notifyFailed(server("s1"))
        #expect(m.find()?.name == "s2")
    }

    /// Regression of Consul #3463: a server that always fails its ping never leads after a
    /// rebalance.
    @Test func aRebalanceAvoidsAFailingServer() async {
        for seed in 0..<100 as Range<UInt64> {
            let m = manager(FauxPinger(failName: "s2"), seed: seed)
            for name in ["s1", "s2", "s3"] { m.add(server(name)) }
            await m.rebalance()
            #expect(m.find()?.name != "s2")
        }
    }

    @Test func rebalancesProduceManyOrders() async {
        let m = manager(FauxPinger(failFraction: 0.5))
        for i in 0..<100 { m.add(server("s\(i)")) }
        var orders: Set<[String]> = []
        for _ in 0..<100 {
            await m.rebalance()
            var order: [String] = []
            for _ in 0..<100 {
                guard let front = m.find() else { break }
                order.append(front.name)
                m.notifyFailed(front)
            }
            orders.insert(order)
        }
        #expect(orders.count >= 50)
    }

    @Test func removingFromFrontMiddleAndEndThenDraining() async {
        let m = manager()
        m.remove(named: "s0")
        for i in 0..<19 { m.add(server("s\(i)")) }
        await m.rebalance()
        #expect(m.count == 19)
        var removed: [String] = []
        for _ in 0..<3 {
            let front = m.find()!
            m.remove(named: front.name)
            removed.append(front.name)
        }
        for _ in 0..<3 {
            let front = m.find()!
            m.notifyFailed(front)
            m.remove(named: front.name)
            removed.append(front.name)
        }
        for _ in 0..<3 {
            let middle = m.servers[m.count / 2]
            m.remove(named: middle.name)
            removed.append(middle.name)
        }
        #expect(m.count == 10)
        for name in removed { #expect(!m.servers.contains { $0.name == name }) }
        while let front = m.find() { m.remove(named: front.name) }
        #expect(m.count == 0)
    }

    @Test func cyclingAllServersRestoresTheOrder() {
        var servers = [server("a"), server("b"), server("c")]
        servers.cycleFront()
        #expect(servers.map(\.name) == ["b", "c", "a"])
        servers.cycleFront()
        servers.cycleFront()
        #expect(servers.map(\.name) == ["a", "b", "c"])
        var one = [server("a")]
        one.cycleFront()
        #expect(one.map(\.name) == ["a"])
    }

    @Test func reconcilingKeepsTheChosenOrderAndHonoursConcurrentChanges() {
        let chosen = [server("c"), server("a"), server("b")]
        // b removed and d added while pinging: b dropped, d appended, c still leads.
        let merged = chosen.reconciled(with: [server("a"), server("c"), server("d")])
        #expect(merged?.map(\.name) == ["c", "a", "d"])
        // The chosen front was removed meanwhile: freeze in place.
        #expect(chosen.reconciled(with: [server("a"), server("b")]) == nil)
        #expect(chosen.reconciled(with: []) == nil)
        #expect([ManagedServer]().reconciled(with: [server("a")]) == nil)
    }

    /// Consul's `TestManagerInternal_reconcileServerList`: whatever the size, after a rebalance
    /// on the healthy set the list holds exactly the healthy servers, none that failed.
    @Test(arguments: [1, 2, 3, 4, 5, 10, 100])
    func aRebalanceAgainstTheHealthySetKeepsExactlyTheHealthy(count: Int) async {
        let pinger = FauxPinger(failFraction: 0.3, seed: UInt64(count))
        let m = manager(pinger)
        var healthy: [ManagedServer] = []
        for i in 0..<count {
            let s = server("s\(i)")
            m.add(s)
            if await pinger.ping(s) { healthy.append(s) }
        }
        guard !healthy.isEmpty else { return }
        for s in m.servers where !healthy.contains(s) { m.remove(named: s.name) }
        await m.rebalance()
        #expect(Set(m.servers) == Set(healthy))
    }

    @Test func aServerCountsItselfHealthyWithoutAPing() async {
        let alwaysFails = FauxPinger(failFraction: 1)
        let single = manager(alwaysFails, local: "self")
        single.add(server("self"))
        await single.rebalance()
        #expect(!single.isOffline && alwaysFails.pingCount == 0)

        let allFailing = manager(FauxPinger(failFraction: 1))
        for name in ["s1", "s2", "s3"] { allFailing.add(server(name)) }
        for _ in 0..<100 {
            await allFailing.rebalance()
            #expect(allFailing.isOffline)
        }

        let withSelf = manager(FauxPinger(failFraction: 1), local: "self")
        for name in ["s1", "self", "s2"] { withSelf.add(server(name)) }
        await withSelf.rebalance()
        #expect(!withSelf.isOffline && withSelf.find()?.name == "self")
    }

    @Test func heavierServersTendToLeadAfterARebalance() async {
        var heavyFirst = 0
        for seed in 0..<400 as Range<UInt64> {
            let m = manager(seed: seed)
            m.add(server("light-1", weight: 1))
            m.add(server("heavy", weight: 8))
            m.add(server("light-2", weight: 1))
            await m.rebalance()
            if m.find()?.name == "heavy" { heavyFirst += 1 }
        }
        // Weight 8 of 10: leads about 80 % of the time.
        #expect(heavyFirst > 280 && heavyFirst < 360)
    }

    @Test func serversAreValidated() {
        #expect(throws: ClientError.self) { _ = try ManagedServer(name: "", address: "x") }
        #expect(throws: ClientError.self) { _ = try ManagedServer(name: "a", address: "x", weight: 0) }
        #expect(throws: ClientError.self) { _ = try ManagedServer(name: "a", address: "x", weight: .infinity) }
    }
}
