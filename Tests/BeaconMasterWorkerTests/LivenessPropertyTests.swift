import BeaconCore
import BeaconMasterWorker
import PropertyBased
import Testing

/// The two timing promises, checked on random schedules in virtual time: the master's offline
/// verdict is never early and never lost, and a worker cut off from its master stops before the
/// master declares it offline (so a rescheduled copy never overlaps it).
@Suite struct LivenessPropertyTests {
    static let node = Fixture.executor("executor-1")
    static let epoch = Epoch(rawValue: 2)

    @Test func offlineComesWithinOneSlotOfTheLastPingPlusTheTimeoutAndNeverEarlier() async {
        await propertyCheck(
            count: 300, input: Gen.int(in: 0...25_000).array(of: 1...40).array(of: 1...8)
        ) { gapsPerWorker in
            let clock = ManualClock(start: Fixture.start)
            let manager = try Fixture.manager(clock: clock)
            let timeout = TimeoutConfiguration.default.offlineTimeout
            // Each worker pings after each gap (milliseconds); its first gap starts at creation.
            var pings: [(at: BeaconInstant, worker: Int)] = []
            var expected: [Int: BeaconInstant] = [:]
            for (index, gaps) in gapsPerWorker.enumerated() {
                try manager.workerStarting(Fixture.worker("w\(index)"), on: Self.node, epoch: Self.epoch)
                var last = Fixture.start
                for gap in gaps {
                    let next = last.advanced(by: .milliseconds(gap))
                    if last.duration(to: next) > timeout { break }
                    pings.append((next, index))
                    last = next
                }
                expected[index] = last.advanced(by: timeout)
            }
            pings.sort { $0.at < $1.at }
            var offlineAt: [Int: BeaconInstant] = [:]
            var due = try manager.advance()
            var nextPing = 0
            func collect() {
                while let event = manager.nextEvent() {
                    if case .offline(let worker, _) = event { offlineAt[Int(worker.rawValue.dropFirst())!] = clock.now }
                }
            }
            while nextPing < pings.count || due != nil {
                let pingTime = nextPing < pings.count ? pings[nextPing].at : nil
                if let pingTime, due == nil || pingTime <= due! {
                    try clock.advance(to: max(pingTime, clock.now))
                    let worker = Fixture.worker("w\(pings[nextPing].worker)")
                    try manager.handleHeartbeat(
                        Fixture.ping(worker, workerEpoch: Self.epoch, at: pingTime), from: Self.node)
                    nextPing += 1
                } else if let wake = due {
                    try clock.advance(to: max(wake, clock.now))
                }
                due = try manager.advance()
                collect()
            }
            for (worker, deadline) in expected {
                let detected = try #require(offlineAt[worker], "worker \(worker) was never declared offline")
                #expect(detected >= deadline)
                #expect(detected.duration(since: deadline) <= .milliseconds(1))
            }
        }
    }

    /// One master and one worker exchanging pings and pongs over a link that loses and delays
    /// messages at random; the run ends when either side gives up.
    @Test func aCutOffWorkerStopsBeforeItsMasterDeclaresItOffline() async {
        await propertyCheck(
            count: 1_000,
            input: Gen.int(in: 0...100), Gen.int(in: 0...800), Gen.int(in: 0...Int(UInt32.max))
        ) { lossPercent, maximumDelayMilliseconds, seed in
            var random = SplitMix64(seed: UInt64(seed))
            let clock = ManualClock(start: Fixture.start)
            let manager = try Fixture.manager(clock: clock)
            let worker = Fixture.worker("w")
            try manager.workerStarting(worker, on: Self.node, epoch: Self.epoch)
            var session = WorkerSession(
                client: MasterClient(
                    master: Fixture.master(), worker: worker, workerEpoch: Self.epoch,
                    masterInfo: MasterInfo(executor: Self.node, epoch: Fixture.masterEpoch), startTime: Fixture.start),
                at: Fixture.start)
            enum InFlight {
                case ping(HeartbeatPing)
                case pong(HeartbeatPong)
            }
            var inFlight: [(at: BeaconInstant, message: InFlight)] = []
            func send(_ message: InFlight) {
                guard random.next() % 100 >= UInt64(lossPercent) else { return }
                let delay = Duration.milliseconds(Int64(random.next() % UInt64(maximumDelayMilliseconds + 1)))
                inFlight.append((clock.now.advanced(by: delay), message))
            }
            var suicideAt: BeaconInstant?
            var offlineAt: BeaconInstant?
            var due = try manager.advance()
            // Ten simulated minutes, or, once the worker has stopped, until the master must have
            // noticed: its last accepted ping was sent before the stop, so its deadline is at
            // most the offline timeout plus the longest delay after the stop.
            var horizon = Fixture.start.advanced(by: .seconds(600))
            let noticeWindow =
                TimeoutConfiguration.default.offlineTimeout + .milliseconds(Int64(maximumDelayMilliseconds) + 10)
            var steps = 0
            while offlineAt == nil, clock.now < horizon {
                var next = suicideAt == nil ? session.nextTick : horizon
                if let due { next = min(next, due) }
                if let earliest = inFlight.map(\.at).min() { next = min(next, earliest) }
                steps += 1
                try #require(steps < 1_000_000, "the simulation stopped making progress at \(clock.now)")
                // Time always moves on: a session whose next tick stayed in the past would spin.
                try clock.advance(to: max(next, clock.now.advanced(by: .milliseconds(1))))
                let now = clock.now
                if suicideAt == nil {
                    for action in session.tick(at: now) {
                        switch action {
                        case .sendPing(let ping, _): send(.ping(ping))
                        case .suicide:
                            suicideAt = now
                            horizon = now.advanced(by: noticeWindow)
                        case .reloadMasterInfo, .exitNotAcknowledged: break
                        }
                    }
                }
                let arrived = inFlight.filter { $0.at <= now }
                inFlight.removeAll { $0.at <= now }
                for delivery in arrived {
                    switch delivery.message {
                    case .ping(let ping):
                        if let pong = manager.answer(to: ping) { send(.pong(pong)) }
                        try manager.handleHeartbeat(ping, from: Self.node)
                    case .pong(let pong):
                        if suicideAt == nil { _ = session.receive(pong, from: Self.node) }
                    }
                }
                due = try manager.advance()
                while let event = manager.nextEvent() {
                    if case .offline = event { offlineAt = now }
                }
            }
            if let offlineAt {
                let stopped = try #require(
                    suicideAt, "the master declared the worker offline while it was still running")
                #expect(stopped < offlineAt)
            } else {
                #expect(suicideAt == nil, "the worker stopped but its master never declared it offline")
            }
        }
    }
}
