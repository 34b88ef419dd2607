#if Etcd
@testable import BeaconCoordination
@testable import BeaconScheduler
import BeaconCoordinationEtcd
import EtcdTestSupport
import Testing

/// What happens to a group when its etcd server misbehaves. Each test starts its own server and
/// runs in real time: the faults are a real process stopped and started. A lease lost to the
/// fault is an outcome these tests accept (the participant registers again), so their waits
/// allow it.
@Suite(.timeLimit(.minutes(2))) struct EtcdFaultTests {
    /// A store dropped without `shutdown()` (a caller that threw past it) closes its connection
    /// pools itself; AsyncHTTPClient traps on a client dropped while running, which used to take
    /// the whole test process down with whichever test threw. The trap is AsyncHTTPClient's
    /// debug-build check, so this test can fail only in a debug build (what `swift test` makes).
    @Test func aStoreDroppedWithoutShutdownClosesItself() async throws {
        for _ in 0..<3 {
            let store = try EtcdCoordinationStore(endpoints: ["http://127.0.0.1:9"], timeout: .milliseconds(200))
            await #expect(throws: CoordinationError.self) { _ = try await store.read(prefix: "/k") }
        }
        let shutDown = try EtcdCoordinationStore(endpoints: ["http://127.0.0.1:9"])
        await shutDown.shutdown()
    }

    /// Arguments etcd cannot serve are refused before any request, with a typed error: a lease
    /// past etcd's longest (whose whole seconds once overflowed while being rounded up), and a
    /// watch after the last revision.
    @Test func aLeaseTooLongAndAWatchAfterTheLastRevisionAreRefusedUnsent() async throws {
        let store = try EtcdCoordinationStore(endpoints: ["http://127.0.0.1:9"], timeout: .milliseconds(200))
        for ttl in [Duration.seconds(Int64.max), GrantedLease.longestTTL + .nanoseconds(1), .zero] {
            // Refused as an argument: a request sent to the closed port would fail otherwise.
            do throws(CoordinationError) {
                _ = try await store.grantLease(ttl: ttl)
                Issue.record("a lease of \(ttl) was granted")
            } catch {
                guard case .invalidArgument = error else {
                    Issue.record("\(ttl): \(error)")
                    continue
                }
            }
        }
        var watch = store.watch(prefix: "/k/", after: .max).makeAsyncIterator()
        await #expect(throws: CoordinationError.invalidArgument("watch: no revision can follow \(Int64.max)")) {
            _ = try await watch.next()
        }
        await store.shutdown()
        #expect(throws: CoordinationError.self) {
            try EtcdCoordinationStore(endpoints: ["http://127.0.0.1:9"], timeout: .zero)
        }
        for interval in [Duration.seconds(-1), .milliseconds(99)] {
            #expect(
                throws: CoordinationError.invalidArgument(
                    "etcd: the watch probe interval must be at least 0.1 seconds, not \(interval)")
            ) {
                try EtcdCoordinationStore(endpoints: ["http://127.0.0.1:9"], watchProbeInterval: interval)
            }
        }
        let shortest = try EtcdCoordinationStore(
            endpoints: ["http://127.0.0.1:9"], watchProbeInterval: EtcdCoordinationStore.shortestWatchProbeInterval)
        await shortest.shutdown()
        #expect(
            throws: CoordinationError.invalidArgument("etcd: the watch buffer limit must be at least 1 batch, not 0")
        ) {
            try EtcdCoordinationStore(endpoints: ["http://127.0.0.1:9"], watchBufferLimit: 0)
        }
    }

    /// An etcd watch holds at most its buffer of batches for a reader that takes none; the next
    /// ends it, after those it holds, with a failure that says to read again. Without the limit
    /// the two hundred changes would wait in memory for the reader.
    @Test func anEtcdWatchWhoseReaderTakesNothingEndsPastItsBuffer() async throws {
        let server = try await EtcdTestServer()
        defer { server.stop() }
        let store = try EtcdCoordinationStore(endpoints: [server.clientURL], watchBufferLimit: 2)
        func put(_ key: String) async throws {
            _ = try await store.transaction(if: [], then: [.put(key: key, value: "v", lease: nil)], else: [])
        }
        var stalled = store.watch(prefix: "/buffer/", after: 0).makeAsyncIterator()
        // Taken once, so the watch is in step with etcd, which then sends each later write as a
        // batch of its own (a watch catching up sends history in fewer, larger batches).
        try await put("/buffer/first")
        _ = try await stalled.next()
        for index in 1...200 { try await put("/buffer/k\(index)") }
        var batches = 0
        await #expect(throws: CoordinationError.behind(batches: 2)) {
            while try await stalled.next() != nil { batches += 1 }
        }
        #expect(batches == 2)
        await store.shutdown()
    }

    /// etcd frozen (SIGSTOP) for longer than the session TTL, then thawed: the leases may have
    /// lapsed meanwhile; the participants register again if so, and the group converges.
    @Test func aServerPausedPastTheTTLRecovers() async throws {
        try await withScheduler(.etcd) { fixture, scheduler in
            let server = try #require(fixture.server)
            let a = try await scheduler.schedule(
                path: "/fault/pause", hostname: "a", options: options(max: 2, ttl: fixture.ttl))
            let b = try await scheduler.schedule(
                path: "/fault/pause", hostname: "b", options: options(max: 2, ttl: fixture.ttl))
            try await a.waitFor(["a", "b"])
            try server.pause()
            try await Task.sleep(for: fixture.ttl + .seconds(2))  // real time: the server is really frozen
            try server.resume()
            try await until("both hosts registered again", in: fixture.store, prefix: "/fault/pause/exchange/") {
                $0.values.map(\.key) == ["/fault/pause/exchange/a", "/fault/pause/exchange/b"]
            }
            try await a.waitFor(["a", "b"], allowingLeaseLoss: true)
            try await b.waitFor(["a", "b"], allowingLeaseLoss: true)
            let c = try await scheduler.schedule(
                path: "/fault/pause", hostname: "c", options: options(max: 2, ttl: fixture.ttl))
            try await c.waitFor(["a", "b"])
            for handle in [a, b, c] { await handle.shutdown() }
        }
    }

    /// etcd stopped and started again on the same data: watches break and resume, and a host
    /// joining afterwards is seen by everyone.
    @Test func aRestartedServerIsFollowedAgain() async throws {
        try await withScheduler(.etcd) { fixture, scheduler in
            let server = try #require(fixture.server)
            let a = try await scheduler.schedule(
                path: "/fault/restart", hostname: "a", options: options(max: 3, ttl: fixture.ttl))
            let b = try await scheduler.schedule(
                path: "/fault/restart", hostname: "b", options: options(max: 3, ttl: fixture.ttl))
            try await b.waitFor(["a", "b"])
            try await server.restart()
            let c = try await scheduler.schedule(
                path: "/fault/restart", hostname: "c", options: options(max: 3, ttl: fixture.ttl))
            for handle in [a, b, c] { try await handle.waitFor(["a", "b", "c"], allowingLeaseLoss: true) }
            for handle in [a, b, c] { await handle.shutdown() }
        }
    }

    /// A watch's member that freezes (SIGSTOP) keeps the watch open and silent while the rest of
    /// the cluster moves on. The store probes the member once it has been quiet for the probe
    /// interval, ends the watch when no answer comes, and the group is followed again through a
    /// member that answers: a host joining through the others is seen. The frozen member is a
    /// follower, so the cluster needs no election, and `a` keeps its lease throughout: only the
    /// probe can have moved its watch.
    @Test func aWatchOnAFrozenMemberMovesToAMemberThatAnswers() async throws {
        let cluster = try await EtcdTestServer(members: 3)
        defer { cluster.stop() }
        let leader = try #require(await cluster.leader())
        let frozen = (leader + 1) % 3
        let rest = cluster.clientURLs.indices.filter { $0 != frozen }.map { cluster.clientURLs[$0] }
        // `watched` tries the frozen member first, so its group's watch streams from it.
        let watched = try EtcdCoordinationStore(
            endpoints: [cluster.clientURLs[frozen]] + rest, timeout: .seconds(1), watchProbeInterval: .seconds(1))
        let others = try EtcdCoordinationStore(endpoints: rest, timeout: .seconds(1))
        let first = Scheduler(store: watched)
        let second = Scheduler(store: others)
        // A refresh sent to the frozen member moves on after the 1 s timeout: 6 s leave room for
        // that on a busy machine.
        let settings = options("alpha", max: 3, ttl: .seconds(6))
        let a = try await first.schedule(path: "/fault/frozen", hostname: "a", options: settings)
        try await a.waitFor(["a"])

        // `a` leads the group: it must see `b` join to decide the new set, which `b` then sees.
        cluster.pause(member: frozen)
        let b = try await second.schedule(path: "/fault/frozen", hostname: "b", options: settings)
        let followed = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for handle in [a, b] { try? await handle.waitFor(["a", "b"]) }
                return a.participant.results.latest == ["a", "b"] && b.participant.results.latest == ["a", "b"]
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(30))
                return false
            }
            defer { group.cancelAll() }
            return await group.next() ?? false
        }
        #expect(followed, "the group was not followed past the frozen member")
        let reported = await a.participant.results.observe { _ in true }?.unreadErrors ?? []
        #expect(reported.contains { "\($0)".contains("did not answer a status request") }, "\(reported)")

        try cluster.resume()
        for handle in [a, b] { await handle.shutdown() }
        await first.close()
        await second.close()
        await watched.shutdown()
        await others.shutdown()
    }

    /// A store that refuses connections: the first registration fails with a clear error
    /// instead of a participant that reports errors forever; with a live member later in the
    /// endpoint list, requests fail over to it.
    @Test func anUnreachableServerFailsTheFirstRegistrationAndEndpointsFailOver() async throws {
        let dead = try await EtcdTestServer()
        dead.stop()
        let live = try await EtcdTestServer()
        defer { live.stop() }
        let unreachable = try EtcdCoordinationStore(endpoints: [dead.clientURL], timeout: .seconds(1))
        await #expect(throws: SchedulerError.self) {
            _ = try await Scheduler(store: unreachable).schedule(
                path: "/fault/down", hostname: "a", options: options(ttl: .seconds(2)))
        }
        await unreachable.shutdown()
        let failingOver = try EtcdCoordinationStore(endpoints: [dead.clientURL, live.clientURL], timeout: .seconds(1))
        let handle = try await Scheduler(store: failingOver).schedule(
            path: "/fault/down", hostname: "a", options: options(ttl: .seconds(2)))
        try await handle.waitFor(["a"])
        await handle.shutdown()
        await failingOver.shutdown()
    }
}
#endif
