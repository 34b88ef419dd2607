import BeaconCore
import BeaconDispatcher
import Testing

/// SwarmKit's registration, heartbeat and leader-start tests (seed spec A16 3–5) against the
/// public API, in virtual time: nothing here waits for real time to pass.
@Suite struct LivenessTests {
    @Test func registeringIssuesANewSessionEachTimeAndMarksTheNodeReady() async throws {
        let node = nodeID("node-a")
        let leader = try await Leader(ready: [node])
        let first = try await leader.register(node)
        #expect(leader.store.node(node)?.status.state == .ready)
        #expect(leader.dispatcher.state(of: node) == .ready)
        var messages = first.makeAsyncIterator()
        let message = try #require(try await messages.next())
        #expect(message.sessionID == first.id && message.node.status.state == .ready)

        let second = try await leader.register(node)
        #expect(second.id != first.id)
        #expect(throws: DispatcherError.sessionInvalid) {
            _ = try leader.dispatcher.heartbeat(nodeID: node, session: first.id)
        }
        #expect(try leader.dispatcher.heartbeat(nodeID: node, session: second.id) == .seconds(1))
        try await leader.stop()
    }

    @Test func beatsKeepANodeReady() async throws {
        let node = nodeID("node-a")
        let leader = try await Leader()
        leader.store.base.createNode(node)
        let session = try await leader.register(node)
        // Ten seconds: more than three deadlines' worth.
        try await leader.keepBeating(node, session, for: .seconds(10))
        #expect(leader.dispatcher.state(of: node) == .ready)
        #expect(leader.store.node(node)?.status.state == .ready)
        try await leader.stop()
    }

    /// A relay's batch: each heartbeat is answered, in order, as the single call would answer it,
    /// a refused one does not stop the rest, and the accepted ones keep their nodes alive.
    @Test func aBatchOfHeartbeatsIsAnsweredAsSingleCallsWouldBe() async throws {
        let (a, b) = (nodeID("node-a"), nodeID("node-b"))
        let leader = try await Leader()
        leader.store.base.createNodes([a, b])
        let sessionA = try await leader.register(a)
        let sessionB = try await leader.register(b)
        let batch = [
            NodeHeartbeat(nodeID: a, session: sessionA.id),
            NodeHeartbeat(nodeID: a, session: sessionB.id),  // another node's session
            NodeHeartbeat(nodeID: nodeID("ghost"), session: sessionA.id),  // never registered
            NodeHeartbeat(nodeID: b, session: sessionB.id),
        ]
        // Two batches 2.5 s apart carry both nodes past their first deadlines (3 s after each
        // registration); after the second, they are silent and go down 3 s later.
        for _ in 0..<2 {
            try await leader.advance(by: .milliseconds(2_500))
            var answers: [Int] = []
            let refused = leader.dispatcher.heartbeat(batch: batch) { position, result in
                answers.append(position)
                switch position {
                case 0, 3: #expect(result == .success(.seconds(1)))
                case 1: #expect(result == .failure(.sessionInvalid))
                default: #expect(result == .failure(.nodeNotRegistered))
                }
            }
            #expect(refused == 2)
            #expect(answers == [0, 1, 2, 3])
            #expect(leader.dispatcher.state(of: a) == .ready && leader.dispatcher.state(of: b) == .ready)
        }
        try await leader.advance(by: .milliseconds(2_999))
        #expect(leader.dispatcher.state(of: a) == .ready && leader.dispatcher.state(of: b) == .ready)
        try await leader.advance(by: .milliseconds(5))
        #expect(leader.dispatcher.state(of: a) == .down && leader.dispatcher.state(of: b) == .down)
        try await leader.stop()
    }

    @Test func aSilentNodeIsDownAfterPeriodTimesGraceAndNotBefore() async throws {
        let node = nodeID("node-a")
        let leader = try await Leader()
        leader.store.base.createNode(node)
        var batches = leader.store.batches.makeAsyncIterator()
        let session = try await leader.register(node)
        // The deadline is 1 s × 3 after the registration.
        try await leader.advance(by: .milliseconds(2_999))
        #expect(leader.dispatcher.state(of: node) == .ready)
        #expect(throws: Never.self) { _ = try leader.dispatcher.heartbeat(nodeID: node, session: session.id) }
        // That beat moved the deadline to 3 s from now; stay silent past it (plus a wheel slot).
        try await leader.advance(by: .milliseconds(2_999))
        #expect(leader.dispatcher.state(of: node) == .ready)
        try await leader.advance(by: .milliseconds(5))
        #expect(leader.dispatcher.state(of: node) == .down)
        #expect(throws: DispatcherError.nodeNotRegistered) {
            _ = try leader.dispatcher.heartbeat(nodeID: node, session: session.id)
        }

        let down = try #require(await batches.nextBatch(setting: node, to: .down))
        #expect(down.compactMap { $0.nodeMessage(of: node) } == ["heartbeat failure"])
        #expect(leader.store.node(node)?.status.state == .down)
        // The node's session ends: a last message saying it is DOWN, then "not registered".
        var messages = session.makeAsyncIterator()
        var last: SessionMessage?
        do {
            while let message = try await messages.next() { last = message }
            Issue.record("the session stream ended without an error")
        } catch {
            #expect(error == .nodeNotRegistered)
        }
        #expect(last?.node.status.state == .down)
        try await leader.stop()
    }

    /// A new leader does not trust what the last one wrote: READY nodes become UNKNOWN and get
    /// twice the grace to register; DOWN nodes stay DOWN.
    @Test func aLeaderStartMakesNodesUnknownAndTheSilentOnesDownAtTwiceTheGrace() async throws {
        let (silent, returning, dead) = (nodeID("silent"), nodeID("returning"), nodeID("dead"))
        let leader = try await Leader(ready: [silent, returning], down: [dead])
        var batches = leader.store.batches.makeAsyncIterator()
        let start = try #require(await batches.next())
        #expect(Set(start.compactMap { $0.nodeState(of: silent) ?? $0.nodeState(of: returning) }) == [.unknown])
        #expect(
            start.compactMap { $0.nodeMessage(of: silent) } == [
                "Node moved to \"unknown\" state due to leadership change in cluster"
            ])
        #expect(start.allSatisfy { $0.nodeState(of: dead) == nil })
        #expect(leader.dispatcher.state(of: silent) == .unknown)
        #expect(leader.dispatcher.state(of: dead) == .down)
        #expect(leader.store.node(dead)?.status.state == .down)

        // The start was at 0 s; the clock reads 0.1 s, and `returning` registers at 0.2 s.
        let session = try await leader.register(returning)
        #expect(try #require(await batches.nextBatch(setting: returning, to: .ready)).count == 1)
        // Up to just before 1 s × 3 × 2 after the start.
        try await leader.keepBeating(returning, session, for: .milliseconds(5_799))
        #expect(leader.dispatcher.state(of: silent) == .unknown)
        try await leader.keepBeating(returning, session, for: .milliseconds(1))
        #expect(leader.dispatcher.state(of: silent) == .down)
        #expect(leader.dispatcher.state(of: returning) == .ready)

        let down = try #require(await batches.nextBatch(setting: silent, to: .down))
        #expect(down.compactMap { $0.nodeMessage(of: silent) } == ["heartbeat failure for node in \"unknown\" state"])
        #expect(down.allSatisfy { $0.nodeState(of: returning) == nil })
        #expect(leader.store.node(returning)?.status.state == .ready)
        try await leader.stop()
    }

    /// SwarmKit allows three registrations of a node within the 8 s window, which slides from the
    /// last one allowed; refused attempts do not count.
    @Test func registrationsAreRateLimited() async throws {
        let node = nodeID("node-a")
        let leader = try await Leader(ready: [node])
        var session = try await leader.register(node)
        for _ in 0..<2 { session = try await leader.register(node) }
        let limited = DispatcherError.rateLimited(node: "node-a", attempts: 3, window: .seconds(8))
        await #expect(throws: limited) { _ = try await leader.dispatcher.session(nodeID: node, description: nil) }
        // The last allowed registration was at 0.4 s; 7.95 s later it still counts. (The node
        // beats meanwhile: a node that expires starts afresh.)
        try await leader.keepBeating(node, session, for: .milliseconds(7_950))
        await #expect(throws: limited) { _ = try await leader.dispatcher.session(nodeID: node, description: nil) }
        // `register` moves the clock on to 8.45 s: 8.05 s after it, so the window starts over.
        _ = try await leader.register(node)
        try await leader.stop()
    }

    @Test func aZeroWindowTurnsTheRateLimitOff() async throws {
        var configuration = exactConfiguration()
        configuration.rateLimitPeriod = .zero
        let node = nodeID("node-a")
        let leader = try await Leader(configuration, ready: [node])
        for _ in 0..<6 { _ = try await leader.register(node) }
        try await leader.stop()
    }
}
