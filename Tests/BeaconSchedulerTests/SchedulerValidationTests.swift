import Testing

@testable import BeaconCoordination
@testable import BeaconScheduler

/// mgmt's validation (acceptance items 4–6), as thrown errors instead of panics.
@Suite struct SchedulerValidationTests {
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
        for ttl in [Duration.zero, .seconds(Int64.max)] {
            options = ScheduleOptions()
            options.sessionTTL = ttl
            await #expect(throws: SchedulerError.self) {
                _ = try await scheduler.schedule(path: "/s", hostname: "h", options: options)
            }
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
