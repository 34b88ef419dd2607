import Testing

@testable import BeaconScheduler

/// The scheduler's behaviour (mgmt acceptance items 7–14 and the issue's list), run against
/// every backend: the embedded store on a manual clock (virtual time: a lease lapses when the
/// test moves the clock, and a run takes milliseconds), and a real etcd, in real time, when
/// built with the `Etcd` trait. Every wait is for an event; the time limit only stops a hang.
@Suite(.timeLimit(.minutes(2))) struct SchedulerBehaviourTests {
    @Test(arguments: Backend.allCases)
    func aSingleHostSchedulesItself(backend: Backend) async throws {
        try await withScheduler(backend) { fixture, scheduler in
            let handle = try await scheduler.schedule(
                path: "/sched/single", hostname: "h1", options: options(ttl: fixture.ttl))
            var results = handle.results.makeAsyncIterator()
            #expect(try await next(&results) == ["h1"])
            let exchange = try #require(try await fixture.store.value("/sched/single/exchange/h1"))
            #expect(exchange.lease != nil)
            #expect(try await fixture.store.value("/sched/single/scheduled")?.value == "h1")
            let elections = try await fixture.store.read(prefix: "/sched/single/election/").values
            #expect(elections.map(\.value) == ["h1"])
            #expect(elections.first?.key == "/sched/single/election/\(exchange.lease!.hex)")
            await handle.shutdown()
            #expect(try await next(&results) == nil)
            await handle.shutdown()
        }
    }

    @Test(arguments: Backend.allCases)
    func threeHostsConvergeOnOneSetWithOneLeader(backend: Backend) async throws {
        try await withScheduler(backend) { fixture, scheduler in
            var handles: [ScheduleHandle] = []
            for host in ["h1", "h2", "h3"] {
                handles.append(
                    try await scheduler.schedule(
                        path: "/sched/three", hostname: host, options: options(max: 2, ttl: fixture.ttl)))
            }
            for handle in handles { try await handle.waitFor(["h1", "h2"]) }
            try await until("one election key per host", in: fixture.store, prefix: "/sched/three/election/") {
                $0.values.count == 3
            }
            for handle in handles { await handle.shutdown() }
        }
    }

    /// rr is sticky: a newcomer does not displace a chosen host; a chosen host that leaves
    /// cleanly is replaced at once (its lease is revoked, not left to expire).
    @Test(arguments: Backend.allCases)
    func roundRobinIsStickyAndACleanLeaveIsSeenAtOnce(backend: Backend) async throws {
        try await withScheduler(backend) { fixture, scheduler in
            var long = options(max: 2, ttl: .seconds(60))
            long.sessionTTL = .seconds(60)
            let h1 = try await scheduler.schedule(path: "/sched/rr", hostname: "h1", options: long)
            let h3 = try await scheduler.schedule(path: "/sched/rr", hostname: "h3", options: long)
            try await h1.waitFor(["h1", "h3"])
            let h2 = try await scheduler.schedule(path: "/sched/rr", hostname: "h2", options: long)
            try await h2.waitFor(["h1", "h3"])
            await h3.shutdown()
            // The lease is revoked by the time shutdown returns: nothing waits for the 60 s TTL.
            #expect(try await fixture.store.value("/sched/rr/exchange/h3") == nil)
            try await h1.waitFor(["h1", "h2"])
            try await h2.waitFor(["h1", "h2"])
            await h1.shutdown()
            await h2.shutdown()
        }
    }

    /// A crashed participant (no revoke, no more refreshes) stays until its lease lapses, while
    /// the survivor's refreshed lease outlives it.
    @Test(arguments: Backend.allCases)
    func aCrashedHostIsRemovedWhenItsLeaseLapses(backend: Backend) async throws {
        try await withScheduler(backend) { fixture, scheduler in
            let survivor = try await scheduler.schedule(
                path: "/sched/crash", hostname: "a", options: options(max: 2, ttl: fixture.ttl))
            let victim = try await scheduler.schedule(
                path: "/sched/crash", hostname: "b", options: options(max: 2, ttl: fixture.ttl))
            try await survivor.waitFor(["a", "b"])
            await victim.simulateCrash()
            #expect(try await fixture.store.value("/sched/crash/exchange/b") != nil)
            try await fixture.pass(fixture.ttl + fixture.ttl / 4, refreshedLeases: 1)
            try await survivor.waitFor(["a"])
            #expect(try await fixture.store.value("/sched/crash/exchange/b") == nil)
            await survivor.shutdown()
        }
    }

    /// When the leader leaves, the next-oldest candidate leads and continues from the persisted
    /// rr order: mgmt would restart from sorted names and choose h1 here.
    @Test(arguments: Backend.allCases)
    func aNewLeaderContinuesTheStrategysState(backend: Backend) async throws {
        try await withScheduler(backend) { fixture, scheduler in
            let leader = try await scheduler.schedule(
                path: "/sched/handover", hostname: "leader", options: options(ttl: fixture.ttl))
            try await leader.waitFor(["leader"])
            let h2 = try await scheduler.schedule(
                path: "/sched/handover", hostname: "h2", options: options(ttl: fixture.ttl))
            try await until("rr to remember h2", in: fixture.store, prefix: "/sched/handover/strategy-state") {
                $0.values.first?.value == "leader,h2"
            }
            let h1 = try await scheduler.schedule(
                path: "/sched/handover", hostname: "h1", options: options(ttl: fixture.ttl))
            try await until("rr to remember h1 last", in: fixture.store, prefix: "/sched/handover/strategy-state") {
                $0.values.first?.value == "leader,h2,h1"
            }
            await leader.shutdown()
            try await h1.waitFor(["h2"])
            try await h2.waitFor(["h2"])
            let elections = try await fixture.store.read(prefix: "/sched/handover/election/").values
            #expect(elections.sorted { $0.createRevision < $1.createRevision }.first?.value == "h2")
            await h1.shutdown()
            await h2.shutdown()
        }
    }

    @Test(arguments: Backend.allCases)
    func aReusedLeaseKeepsTheHostInTheGroupAcrossRestarts(backend: Backend) async throws {
        try await withScheduler(backend) { fixture, scheduler in
            var reuse = options(ttl: fixture.ttl)
            reuse.reuseLease = true
            let first = try await scheduler.schedule(path: "/sched/reuse", hostname: "h1", options: reuse)
            try await first.waitFor(["h1"])
            let lease = try await fixture.store.value("/sched/reuse/exchange/h1")?.lease
            await first.shutdown()
            // Kept alive past its TTL by the scheduler, though no participant runs.
            try await fixture.pass(fixture.ttl * 2, refreshedLeases: 1)
            #expect(try await fixture.store.value("/sched/reuse/exchange/h1")?.lease == lease)
            let second = try await scheduler.schedule(path: "/sched/reuse", hostname: "h1", options: reuse)
            try await second.waitFor(["h1"])
            #expect(try await fixture.store.value("/sched/reuse/exchange/h1")?.lease == lease)
            await second.shutdown()
        }
    }

    @Test(arguments: Backend.allCases)
    func maxCountAndTheHostsFilterBoundTheChoice(backend: Backend) async throws {
        try await withScheduler(backend) { fixture, scheduler in
            var filtered = options(max: 2, ttl: fixture.ttl)
            filtered.hostsFilter = ["h2", "h3", "h4"]
            var handles: [ScheduleHandle] = []
            for host in ["h1", "h2", "h3", "h4"] {
                handles.append(try await scheduler.schedule(path: "/sched/filter", hostname: host, options: filtered))
            }
            for handle in handles { try await handle.waitFor(["h2", "h3"]) }
            for handle in handles { await handle.shutdown() }
        }
    }

    /// The lease vanishes under a live participant (as after a partition longer than the TTL):
    /// it reports the loss in band and registers again under a new lease (mgmt drops out for good).
    @Test(arguments: Backend.allCases)
    func aLostLeaseIsReportedAndTheHostRegistersAgain(backend: Backend) async throws {
        try await withScheduler(backend) { fixture, scheduler in
            let handle = try await scheduler.schedule(
                path: "/sched/lost", hostname: "h1", options: options(ttl: fixture.ttl))
            var results = handle.results.makeAsyncIterator()
            #expect(try await next(&results) == ["h1"])
            let lease = try #require(try await fixture.store.value("/sched/lost/exchange/h1")?.lease)
            try await fixture.store.revoke(lease)
            // Read directly: `next(_:)` would fail the test on the loss this test provokes.
            var sawLoss = false
            while !sawLoss {
                do {
                    guard try await results.next() != nil else {
                        Issue.record("the results ended before the loss was reported")
                        return
                    }
                } catch {
                    sawLoss = (error as? SchedulerError) == .leaseLost
                }
            }
            try await until("a new registration", in: fixture.store, prefix: "/sched/lost/exchange/h1") {
                let current = $0.values.first?.lease
                return current != nil && current != lease
            }
            await handle.shutdown()
        }
    }

    /// Nobody reads for a while: the participant does not wait for a reader, and the reader then
    /// gets only the newest set.
    @Test(arguments: Backend.allCases)
    func anUnreadParticipantKeepsOnlyTheNewestSet(backend: Backend) async throws {
        try await withScheduler(backend) { fixture, scheduler in
            let watcher = try await scheduler.schedule(
                path: "/sched/unread", hostname: "a", options: options(max: 5, ttl: fixture.ttl))
            var others: [ScheduleHandle] = []
            for host in ["b", "c", "d", "e"] {
                others.append(
                    try await scheduler.schedule(
                        path: "/sched/unread", hostname: host, options: options(max: 5, ttl: fixture.ttl)))
            }
            try await watcher.waitFor(["a", "b", "c", "d", "e"])
            var results = watcher.results.makeAsyncIterator()
            #expect(try await next(&results) == ["a", "b", "c", "d", "e"])
            for handle in others { await handle.shutdown() }
            await watcher.shutdown()
        }
    }
}
