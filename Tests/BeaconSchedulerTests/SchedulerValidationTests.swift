import Testing

@testable import BeaconCoordination
@testable import BeaconScheduler

/// mgmt's validation (acceptance items 4–6), as thrown errors instead of panics.
@Suite(.timeLimit(.minutes(1))) struct SchedulerValidationTests {
    @Test func pathsAndHostnamesFollowMgmtsRules() async throws {
        let scheduler = Scheduler(store: InMemoryCoordinationStore())
        let cases: [(String, String, SchedulerError)] = [
            ("sched", "h", .invalidPath("path must start with the slash char")),
            ("/sched/", "h", .invalidPath("path must not end with the slash char")),
            ("/sched", "", .invalidHostname("hostname must not be empty")),
            ("/sched", "a,b", .invalidHostname("hostname must not contain join char: ,")),
        ]
        for (path, host, expected) in cases {
            await #expect(throws: expected) { _ = try await scheduler.schedule(path: path, hostname: host) }
        }
        #expect(
            SchedulerError.invalidPath("path must start with the slash char").description
                == "scheduler: path must start with the slash char")
    }

    @Test func optionsHaveMgmtsDefaultsAndRefuseNonsense() async throws {
        let defaults = ScheduleOptions()
        #expect(defaults.maxCount == 1 && defaults.sessionTTL == .seconds(10) && !defaults.reuseLease)
        #expect(defaults.strategy == "rr" && defaults.hostsFilter == nil)
        let scheduler = Scheduler(store: InMemoryCoordinationStore())
        var options = ScheduleOptions(strategy: nil)
        await #expect(throws: SchedulerError.missingStrategy) {
            _ = try await scheduler.schedule(path: "/s", hostname: "h", options: options)
        }
        options.strategy = "fastest"
        await #expect(throws: SchedulerError.unknownStrategy("fastest")) {
            _ = try await scheduler.schedule(path: "/s", hostname: "h", options: options)
        }
        options = ScheduleOptions()
        options.maxCount = 0
        await #expect(throws: SchedulerError.invalidOption("maxCount must be at least 1, not 0")) {
            _ = try await scheduler.schedule(path: "/s", hostname: "h", options: options)
        }
        options = ScheduleOptions()
        options.weight = .nan
        await #expect(throws: SchedulerError.self) {
            _ = try await scheduler.schedule(path: "/s", hostname: "h", options: options)
        }
        for weight in [1e20, 0x1p53.nextUp] {
            options = ScheduleOptions()
            options.weight = weight
            await #expect(throws: SchedulerError.self) {
                _ = try await scheduler.schedule(path: "/s", hostname: "h", options: options)
            }
        }
        for ttl in [Duration.zero, .seconds(Int64.max)] {
            options = ScheduleOptions()
            options.sessionTTL = ttl
            await #expect(throws: SchedulerError.self) {
                _ = try await scheduler.schedule(path: "/s", hostname: "h", options: options)
            }
        }
    }

    /// `shutdown()` is idempotent: called again after the host joined anew, it must not free the
    /// name for a second participant of the same host beside the new one.
    @Test func aSecondShutdownLeavesTheNextParticipantsNameTaken() async throws {
        let scheduler = Scheduler(store: InMemoryCoordinationStore())
        let first = try await scheduler.schedule(path: "/s", hostname: "h")
        await first.shutdown()
        let second = try await scheduler.schedule(path: "/s", hostname: "h")
        await first.shutdown()
        await #expect(throws: SchedulerError.duplicateRegistration(path: "/s", hostname: "h")) {
            _ = try await scheduler.schedule(path: "/s", hostname: "h")
        }
        await second.shutdown()
        await scheduler.close()
    }

    /// Leases kept for reuse belong to one host in one group: two hosts of a scheduler sharing
    /// one would share an election key, and both would lead.
    @Test func hostsKeepingTheirLeasesForReuseEachHaveTheirOwn() async throws {
        let store = InMemoryCoordinationStore()
        let scheduler = Scheduler(store: store)
        var options = ScheduleOptions()
        options.reuseLease = true
        let h1 = try await scheduler.schedule(path: "/r", hostname: "h1", options: options)
        let h2 = try await scheduler.schedule(path: "/r", hostname: "h2", options: options)
        #expect(try await store.read(prefix: "/r/election/").values.count == 2)
        await h1.shutdown()
        await h2.shutdown()
        await scheduler.close()
    }

    /// A group nested in another's `exchange` or `election` keys would have its own keys read
    /// as the outer group's hosts and candidates (`/a/exchange/scheduled` a host, say): refused.
    /// The first segment and deeper nesting elsewhere are fine.
    @Test func aPathInsideAnotherGroupsEntriesIsRefused() async throws {
        for path in ["/a/exchange", "/a/election", "/a/b/exchange/c", "/a/election/b"] {
            #expect(throws: SchedulerError.self) { try GroupPath(path) }
        }
        for path in ["/exchange", "/election/a", "/a/b", "/a/exchanges", "/a/elections/b"] {
            #expect(throws: Never.self) { try GroupPath(path) }
        }
    }

    @Test func aHostJoinsAGroupOnceThroughOneScheduler() async throws {
        let scheduler = Scheduler(store: InMemoryCoordinationStore())
        let handle = try await scheduler.schedule(path: "/s", hostname: "h")
        await #expect(throws: SchedulerError.duplicateRegistration(path: "/s", hostname: "h")) {
            _ = try await scheduler.schedule(path: "/s", hostname: "h")
        }
        await handle.shutdown()
        let again = try await scheduler.schedule(path: "/s", hostname: "h")
        await again.shutdown()
        await scheduler.close()
        await #expect(throws: SchedulerError.closed) { _ = try await scheduler.schedule(path: "/s", hostname: "h") }
    }
}
