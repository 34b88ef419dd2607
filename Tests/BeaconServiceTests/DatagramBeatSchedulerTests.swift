#if GRPC
@testable import BeaconAgent
import BeaconCore
import BeaconDispatcher
import BeaconPrimitives
import Foundation
import NIOCore
import Testing

/// The agents' beat scheduler on its own, in virtual time: its thread parks on a manual clock, its
/// beats leave through a real UDP socket to a `BeatCatcher`, and each session's inbox says which
/// beat it numbered last and when. A beat goes at the end of the 1 ms slot it is due in.
@Suite(.timeLimit(.minutes(2))) struct DatagramBeatSchedulerTests {
    /// The instant `milliseconds` after the clock's start.
    private static func at(_ milliseconds: Int64) -> BeaconInstant {
        BeaconInstant.zero.advanced(by: .milliseconds(milliseconds))
    }

    @Test func sessionsDueInOneSlotLeaveInOnePassAndEachKeepsToWholePeriodsOfItsOwn() async throws {
        let fixture = try await Fixture()
        let a = try fixture.session(1)
        let b = try fixture.session(2)
        let c = try fixture.session(3)
        try fixture.scheduler.start(a, after: .seconds(5))
        try fixture.scheduler.start(b, after: .seconds(5))
        try fixture.scheduler.start(c, after: .seconds(7))

        try await fixture.pass(at: Self.at(5_001))
        #expect(a.inbox.lastBeat?.sequence == 1 && a.inbox.lastBeat?.sent == Self.at(5_001))
        #expect(b.inbox.lastBeat?.sequence == 1 && b.inbox.lastBeat?.sent == Self.at(5_001))
        #expect(c.inbox.lastBeat == nil)
        #expect(try await fixture.caught(2) == [Caught(a, 1), Caught(b, 1)])
        // The answer to a's first beat sets its period to 3 s: the beat after next follows it.
        a.inbox.deliver(try Self.reply(to: a, sequence: 1, period: .seconds(3)))

        try await fixture.pass(at: Self.at(7_001))
        #expect(c.inbox.lastBeat?.sequence == 1)
        #expect(a.inbox.lastBeat?.sequence == 1 && b.inbox.lastBeat?.sequence == 1)
        // Dues move on by whole periods from when each beat was due (5 s, not 5.001 s), so the
        // slot's lateness does not add up from one beat to the next.
        try await fixture.pass(at: Self.at(10_001))
        #expect(a.inbox.lastBeat?.sequence == 2 && b.inbox.lastBeat?.sequence == 2)
        try await fixture.pass(at: Self.at(13_001))
        #expect(a.inbox.lastBeat?.sequence == 3 && b.inbox.lastBeat?.sequence == 2)
        try await fixture.pass(at: Self.at(14_001))
        #expect(c.inbox.lastBeat?.sequence == 2)
        try await fixture.pass(at: Self.at(15_001))
        #expect(b.inbox.lastBeat?.sequence == 3 && a.inbox.lastBeat?.sequence == 3)
        #expect(
            try await fixture.caught(6) == [
                Caught(c, 1), Caught(a, 2), Caught(b, 2), Caught(a, 3), Caught(c, 2), Caught(b, 3),
            ])
        await fixture.close()
    }

    /// The agent's socket and the copy its timer thread sends on are both closed across exec:
    /// a task process the agent starts does not inherit a socket it could send from or read the
    /// manager's answers on. (The copy was made with `dup`, which drops close-on-exec.) The two
    /// are this socket's only descriptors: the ones `/proc` links to its socket.
    #if os(Linux)
    @Test func theSocketAndItsSendingCopyAreClosedAcrossExec() async throws {
        let socket = try await HeartbeatDatagramSocket.bind(ipv6: false)
        let sender = try #require(socket.sender.withLock { $0 })
        let files = FileManager.default
        let target = try files.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(sender)")
        #expect(target.hasPrefix("socket:["))
        let descriptors = try files.contentsOfDirectory(atPath: "/proc/self/fd").compactMap { name -> CInt? in
            guard let descriptor = CInt(name),
                (try? files.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)")) == target
            else { return nil }
            return descriptor
        }
        #expect(descriptors.count == 2)
        for descriptor in descriptors {
            #expect(fcntl(descriptor, F_GETFD) & FD_CLOEXEC != 0, "descriptor \(descriptor)")
        }
        await socket.close()
    }
    #endif

    @Test func aPeriodPastTheWheelsHorizonIsWaitedOutInStepsWithoutABeat() async throws {
        let fixture = try await Fixture()
        let slow = try fixture.session(1)
        try fixture.scheduler.start(slow, after: .seconds(150))
        // The wheel files nothing further than 60 s ahead: the scheduler wakes on the way and
        // files the session again, numbering nothing until its beat is due.
        try await eventually("the session is filed") {
            fixture.clock.sleeperCount == 1 && fixture.clock.nextDeadline != nil
        }
        var steps = 0
        while let deadline = fixture.clock.nextDeadline, deadline < Self.at(150_000) {
            try await fixture.pass(at: deadline)
            #expect(slow.inbox.lastBeat == nil, "a beat at \(deadline)")
            steps += 1
        }
        #expect(steps == 2)
        try await fixture.pass(at: Self.at(150_001))
        #expect(slow.inbox.lastBeat?.sequence == 1 && slow.inbox.lastBeat?.sent == Self.at(150_001))
        #expect(try await fixture.caught(1) == [Caught(slow, 1)])
        slow.inbox.deliver(try Self.reply(to: slow, sequence: 1, period: .seconds(150)))
        while let deadline = fixture.clock.nextDeadline, deadline < Self.at(300_000) {
            try await fixture.pass(at: deadline)
        }
        try await fixture.pass(at: Self.at(300_001))
        #expect(slow.inbox.lastBeat?.sequence == 2)
        await fixture.close()
    }

    @Test func aClockThatJumpsPeriodsAheadGetsOneBeatNotOnePerPeriodMissed() async throws {
        let fixture = try await Fixture()
        let session = try fixture.session(1)
        try fixture.scheduler.start(session, after: .seconds(5))
        try await fixture.settled(at: Self.at(5_001))
        // A stalled process wakes 23 s in: one beat says the node lives, and the next is a
        // period after it, not at the instants the stall skipped.
        try fixture.clock.advance(to: Self.at(23_000))
        await fixture.clock.waitForSleepers(1)
        #expect(session.inbox.lastBeat?.sequence == 1 && session.inbox.lastBeat?.sent == Self.at(23_000))
        try await fixture.pass(at: Self.at(28_001))
        #expect(session.inbox.lastBeat?.sequence == 2)
        await fixture.close()
    }

    @Test func aStoppedSessionIsNumberedNoMoreAndASilentManagerEndsTheOthers() async throws {
        let fixture = try await Fixture()
        let stopped = try fixture.session(1)
        let unanswered = try fixture.session(2, timeout: .seconds(8))
        try fixture.scheduler.start(stopped, after: .seconds(5))
        try fixture.scheduler.start(unanswered, after: .seconds(5))
        fixture.scheduler.stop(stopped)

        try await fixture.pass(at: Self.at(5_001))
        #expect(stopped.inbox.lastBeat == nil)
        #expect(unanswered.inbox.lastBeat?.sequence == 1)
        try await fixture.pass(at: Self.at(10_001))
        #expect(unanswered.inbox.lastBeat?.sequence == 2)
        // At 15 s two beats are unanswered and the older went 10 s ago, past the 8 s timeout:
        // the session ends instead of beating a third time, and nothing is filed any more.
        try await fixture.settled(at: Self.at(15_001))
        try fixture.clock.advance(to: Self.at(15_001))
        let reason = try await unanswered.ending(on: fixture.clock)
        #expect(reason == DatagramBeating.silent(after: .seconds(8)))
        await fixture.clock.waitForSleepers(1)
        #expect(fixture.clock.nextDeadline == nil)
        #expect(unanswered.inbox.lastBeat?.sequence == 2 && stopped.inbox.lastBeat == nil)
        #expect(try await fixture.caught(2) == [Caught(unanswered, 1), Caught(unanswered, 2)])
        await fixture.close()
    }

    @Test func closingEndsTheSessionsStillFiledAndRefusesNewOnes() async throws {
        let fixture = try await Fixture()
        let first = try fixture.session(1)
        let second = try fixture.session(2)
        try fixture.scheduler.start(first, after: .seconds(5))
        try fixture.scheduler.start(second, after: .seconds(60))
        try await fixture.pass(at: Self.at(5_001))
        fixture.scheduler.close()
        #expect(try await first.ending(on: fixture.clock) == .sessionClosed)
        #expect(try await second.ending(on: fixture.clock) == .sessionClosed)
        #expect(throws: AgentError.sessionClosed) {
            try fixture.scheduler.start(try fixture.session(3), after: .seconds(5))
        }
        // Its thread is gone: nothing sleeps on the clock, and moving it numbers nothing.
        #expect(fixture.clock.sleeperCount == 0)
        try fixture.clock.advance(to: Self.at(120_000))
        #expect(first.inbox.lastBeat?.sequence == 1 && second.inbox.lastBeat == nil)
        await fixture.close()
    }

    /// A reply from the session's manager, as the socket's reader hands it to the inbox.
    private static func reply(to session: DatagramBeating, sequence: UInt64, period: Duration) throws
        -> HeartbeatDatagram.Reply
    {
        var bytes = [UInt8](repeating: 0, count: HeartbeatDatagram.replyBytes)
        try bytes.withUnsafeMutableBytes { space in
            try HeartbeatDatagram.writeReply(
                session: session.inbox.session, sequence: sequence, period: period, into: space)
        }
        return try #require(
            bytes.withUnsafeBytes { HeartbeatDatagram.readReply($0, session: session.inbox.session) })
    }
}

/// A beat as the catcher received it: whose, and its number.
private struct Caught: Hashable, CustomStringConvertible {
    let handle: HeartbeatHandle
    let sequence: UInt64

    init(_ session: DatagramBeating, _ sequence: UInt64) {
        handle = session.inbox.session.handle
        self.sequence = sequence
    }

    init(_ beat: BeatCatcher.Beat) {
        handle = beat.handle
        sequence = beat.sequence
    }

    var description: String { "\(handle) #\(sequence)" }
}

/// A scheduler on a manual clock, the agents' socket it sends on, and the catcher it sends to.
private struct Fixture {
    let clock = ManualClock()
    let scheduler: DatagramBeatScheduler<ManualClock>
    let socket: HeartbeatDatagramSocket
    let catcher: BeatCatcher

    init() async throws {
        scheduler = try DatagramBeatScheduler(clock: clock)
        socket = try await HeartbeatDatagramSocket.bind(ipv6: false)
        catcher = try await BeatCatcher()
    }

    /// A session numbered from 1 whose beats go to the catcher.
    func session(_ index: UInt32, timeout: Duration = .seconds(60)) throws -> DatagramBeating {
        let inbox = HeartbeatDatagramSocket.Inbox(
            session: SessionID(
                handle: HeartbeatHandle(index: index, generation: 1), secret: 0x5eed_0000 + UInt64(index)),
            after: 0, clock: clock, observer: nil)
        return DatagramBeating(inbox: inbox, socket: socket, destination: try catcher.address, timeout: timeout)
    }

    /// Waits until the scheduler's thread is parked until `instant`, the next beat it has filed.
    func settled(at instant: BeaconInstant) async throws {
        try await eventually("the scheduler parks until \(instant)") {
            clock.sleeperCount == 1 && clock.nextDeadline == instant
        }
    }

    /// Moves the clock to `instant`, the next beat, and waits until the thread's pass is over.
    func pass(at instant: BeaconInstant) async throws {
        try await settled(at: instant)
        try clock.advance(to: instant)
        await clock.waitForSleepers(1)
    }

    /// The next `count` beats the catcher receives (a pass sends its beats in no set order).
    func caught(_ count: Int) async throws -> Set<Caught> {
        var beats: Set<Caught> = []
        for _ in 0..<count { beats.insert(Caught(try #require(await catcher.next()))) }
        return beats
    }

    func close() async {
        scheduler.close()
        await socket.close()
        await catcher.close()
    }
}
#endif
