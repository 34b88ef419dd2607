#if GRPC
import BeaconAgent
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherService
import BeaconPrimitives
import NIOCore
import NIOPosix
import Testing

/// An agent that beats with datagrams, in virtual time, against a manager played by the test: a
/// `SilentManager` gives the session over gRPC, and a UDP socket on the same port number answers
/// the beats the test chooses. A lost beat costs nothing; two in a row past the call timeout end
/// the session; a resumed session numbers its beats on; the beats keep to whole periods.
@Suite(.timeLimit(.minutes(2))) struct DatagramHeartbeatAgentTests {
    @Test func aLostBeatIsCoveredByTheNextTwoInARowEndTheSessionAndAResumedOneNumbersOn() async throws {
        let listener = RPCListener(
            configuration: try DispatcherServerConfiguration(host: "127.0.0.1", port: 0),
            services: [SilentManager()])
        let serving = Task { try await listener.run() }
        let port = try await listener.listeningPort
        let beats = try await BeatCatcher(port: port)
        let session = try SessionID(SilentManager.session)
        let clock = ManualClock()
        let answered = PosixMutex<[BeaconInstant]>([])
        let connections = try ManagerConnections()
        let agent = try NodeAgent(
            configuration: AgentConfiguration(
                node: nodeID("node-1"), managers: ["127.0.0.1:\(port)"], callTimeout: .seconds(5),
                followsAssignments: false, heartbeatTransport: .datagrams),
            connections: connections, heartbeatObserver: { sent, _ in answered.withLock { $0.append(sent) } },
            clock: clock)
        var events = agent.events.makeAsyncIterator()
        let running = Task { try await agent.run() }
        let started = await next(&events) { if case .sessionStarted = $0 { true } else { false } }
        #expect(started != nil)

        // After the first beat, the connections' beat scheduler sends the agent's beats from a
        // timer thread with 1 ms slots: each goes at the end of the slot it is due in, and dues
        // advance by whole periods, so the beats go at 5.001 s, 10.001 s, ...
        let slot = Duration.milliseconds(1)
        func beatTime(_ period: Int) -> BeaconInstant { BeaconInstant.zero.advanced(by: .seconds(5 * period) + slot) }

        /// Moves the clock to the next beat (the scheduler's thread parked until it first) and
        /// returns the beat.
        func nextBeat(at instant: BeaconInstant) async throws -> BeatCatcher.Beat {
            await clock.waitForSleepers(1)
            #expect(clock.nextDeadline == instant)
            try clock.advance(to: instant)
            return try #require(await beats.next())
        }

        // 0 s: the first beat, answered with the period.
        let first = try #require(await beats.next())
        #expect(first.sequence == 1)
        try beats.answer(first, for: session, period: .seconds(5))
        try await eventually("the first answer arrives") { answered.withLock { $0.count } == 1 }
        // The wait for that answer had a timer of its own (a quarter of the timeout), and the
        // watchdog slept until the session's deadline; once both are gone, the one sleeper left
        // is the scheduler's thread, parked until the next beat. The agent's own tasks sleep on
        // no timer while its beats are answered.
        try await eventually("only the scheduler sleeps, until the next beat") {
            clock.sleeperCount == 1 && clock.nextDeadline == beatTime(1)
        }
        // 5 s: lost. 10 s: answered, which also settles the lost one.
        #expect(try await nextBeat(at: beatTime(1)).sequence == 2)
        let third = try await nextBeat(at: beatTime(2))
        #expect(third.sequence == 3)
        try beats.answer(third, for: session, period: .seconds(5))
        try await eventually("the third answer arrives") { answered.withLock { $0.count } == 2 }
        #expect(answered.withLock { $0 } == [.zero, beatTime(2)])
        // 15 s and 20 s: both lost; the session holds until the check at 25 s.
        #expect(try await nextBeat(at: beatTime(3)).sequence == 4)
        #expect(try await nextBeat(at: beatTime(4)).sequence == 5)
        #expect(agent.lastSessionEnd == nil && agent.sessionsStarted == 1)
        await clock.waitForSleepers(1)
        try clock.advance(to: beatTime(5))
        let ended = await next(&events) { if case .sessionEnded = $0 { true } else { false } }
        guard case .sessionEnded(_, let reason, _) = ended else {
            Issue.record("the session did not end")
            return
        }
        #expect(reason.contains("no answer to a heartbeat datagram within 5"), "\(reason)")

        // After its back-off the agent offers the session again, and the manager (which here
        // always gives the same one) resumes it: the beats number on from the last, since the
        // manager would refuse a number it has seen. The scheduler's thread, with nothing to
        // send, is parked without a deadline.
        await clock.waitForSleepers(2)
        try clock.advance(by: .seconds(1))
        #expect(try #require(await beats.next()).sequence == 6)

        running.cancel()
        _ = await running.result
        await connections.close()
        await beats.close()
        listener.stop()
        serving.cancel()
        _ = await serving.result
    }
}

/// A clock of the agent's own that a thread cannot wait on.
private struct OwnClock: BeaconClock {
    let base = MonotonicClock()
    var now: BeaconInstant { base.now }
    func sleep(until deadline: BeaconInstant, tolerance: Duration?) async throws {
        try await base.sleep(until: deadline, tolerance: tolerance)
    }
}

extension DatagramHeartbeatAgentTests {
    /// Datagram beats are scheduled on a thread that waits on the agent's clock, so an agent on
    /// any other clock than the system's or a manual one is refused when it is made, not when
    /// its first session would begin beating.
    @Test func datagramBeatsOnAClockNoThreadCanWaitOnAreRefusedUpFront() throws {
        let connections = try ManagerConnections()
        let configuration = try AgentConfiguration(
            node: nodeID("node-1"), managers: ["127.0.0.1:1"], heartbeatTransport: .datagrams)
        #expect {
            _ = try NodeAgent(configuration: configuration, connections: connections, clock: OwnClock())
        } throws: { error in
            guard case AgentError.invalidConfiguration(let message) = error else { return false }
            return message.contains("MonotonicClock or ManualClock") && message.contains("OwnClock")
        }
        var streamed = configuration
        streamed.heartbeatTransport = .stream
        _ = try NodeAgent(configuration: streamed, connections: connections, clock: OwnClock())
    }

    /// A byte budget past what a message length can carry once trapped in the first session
    /// (its framing overflowed); settings changed after the configuration was made are checked
    /// again when the agent is.
    @Test func settingsOutOfRangeAreRefusedWhenMadeAndWhenChanged() throws {
        let connections = try ManagerConnections()
        for budget in [1023, AssignmentEncoder.maximumByteBudget + 1, .max] {
            #expect(throws: AgentError.self) {
                try AgentConfiguration(node: nodeID("node-1"), managers: ["127.0.0.1:1"], assignmentByteBudget: budget)
            }
        }
        let configuration = try AgentConfiguration(node: nodeID("node-1"), managers: ["127.0.0.1:1"])
        var changed = [configuration, configuration, configuration]
        changed[0].assignmentByteBudget = .max
        changed[1].managers = []
        changed[2].statusBatchLimit = 0
        for configuration in changed {
            #expect(throws: AgentError.self) {
                _ = try NodeAgent(configuration: configuration, connections: connections)
            }
        }
    }
}
#endif
