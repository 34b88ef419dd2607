import BeaconCore
import PropertyBased
import Testing

@testable import BeaconDispatcher

/// No expiry is lost or early at the dispatcher's level: a node is marked DOWN only after its
/// deadline (its last heartbeat plus the period it was given times the grace) has passed, and
/// always within one wheel slot, one loop step and one flush interval of it.
@Suite struct ExpiryPropertyTests {
    @Test func downIsNeverEarlyAndNeverLost() async {
        // Per node: the gaps between its heartbeats, in 5 ms steps; long gaps let it expire.
        let gaps = Gen.int(in: 1...80).array(of: 4...30)
        await propertyCheck(count: 60, input: gaps.array(of: 1...6)) { schedules in
            let failure = runSchedule(schedules)
            #expect(failure == nil, "\(failure ?? "")")
        }
    }

    /// Runs every node's schedule; returns the first broken invariant.
    private func runSchedule(_ schedules: [[Int]]) -> String? {
        var configuration = DispatcherConfiguration()
        configuration.heartbeatPeriod = .milliseconds(100)
        configuration.heartbeatJitter = .milliseconds(20)
        configuration.graceMultiplier = 2
        configuration.rateLimitPeriod = .zero
        configuration.expiryResolution = .milliseconds(1)
        configuration.statusBatchInterval = .milliseconds(10)
        let names = schedules.indices.map { "n\($0)" }
        guard let dispatcher = try? startedDispatcher(configuration, nodes: names) else { return "no dispatcher" }
        let step = Duration.milliseconds(5)
        let lateness = Duration.milliseconds(1 + 5 + 10)
        // The registration's own deadline is not returned to the node, so the model keeps the
        // range the true deadline lies in: registration + [80, 120) ms × 2, later pushed by beats.
        struct Agent {
            var session: SessionID?
            var earliest = BeaconInstant.zero
            var deadline: BeaconInstant?
            var gaps: [Int]
            var nextBeat = 0
            var waited = 0
        }
        var agents = schedules.map { Agent(gaps: $0) }
        for (index, name) in names.enumerated() {
            guard let message = try? dispatcher.registerNow(nodeID(name)) else { return "registration failed" }
            agents[index].session = message.sessionID
            agents[index].earliest = dispatcher.now.advanced(by: .milliseconds(160))
            agents[index].deadline = dispatcher.now.advanced(by: .milliseconds(240))
        }
        for _ in 0..<400 {
            dispatcher.advance(by: step)
            let now = dispatcher.now
            for index in agents.indices {
                let node = nodeID(names[index])
                let state = dispatcher.store.node(node)?.status.state
                guard let deadline = agents[index].deadline else { continue }
                if state == .down {
                    if now < agents[index].earliest {
                        return "\(names[index]) DOWN at \(now), before its deadline \(agents[index].earliest)"
                    }
                    agents[index].deadline = nil
                    continue
                }
                if now > deadline.advanced(by: lateness) {
                    return "\(names[index]) still \(String(describing: state)) at \(now), deadline \(deadline)"
                }
                guard agents[index].nextBeat < agents[index].gaps.count else { continue }
                agents[index].waited += 1
                guard agents[index].waited >= agents[index].gaps[agents[index].nextBeat] else { continue }
                agents[index].waited = 0
                agents[index].nextBeat += 1
                guard let session = agents[index].session else { continue }
                do {
                    let period = try dispatcher.core.heartbeat(node: node, session: session)
                    let candidate = now.advanced(by: period * 2)
                    // A deadline never moves earlier: a shorter drawn period leaves the later one.
                    agents[index].deadline = max(deadline, candidate)
                    agents[index].earliest = max(agents[index].earliest, candidate)
                } catch {
                    // The wheel expired the node and the flush has not written DOWN yet.
                    if now < agents[index].earliest {
                        return "\(names[index]) refused at \(now) before its deadline: \(error)"
                    }
                }
            }
        }
        return nil
    }
}
