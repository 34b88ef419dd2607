import BeaconCore
import PropertyBased
import Testing

@testable import BeaconCoordination
@testable import BeaconScheduler

/// The lease keeper's schedule against a model of the promises a lease holder relies on, on
/// random runs of leases kept and let go, refreshes answered (renewed, failed, gone) and a shell
/// that wakes at or after the instant the schedule asks for: no lease expires before a TTL has
/// passed since its last renewed refresh was sent, none outlives that by a wake-up, no lease has
/// two refreshes in flight, and the schedule never sleeps past a lease's deadline.
@Suite(.timeLimit(.minutes(1))) struct LeaseRefreshSchedulePropertyTests {
    /// What the model knows of one kept lease.
    private struct Modelled {
        let ttl: Duration
        /// A TTL after the last renewed refresh was sent (or after the lease was kept).
        var deadline: BeaconInstant
        /// When the refresh in flight was sent.
        var inFlight: BeaconInstant?
    }

    @Test func expiriesAreNeverEarlyNorLostAndOneRefreshIsInFlightAtATime() async {
        await propertyCheck(count: 400, input: Gen.int(in: 0...999).array(of: 1...80)) { operations in
            var schedule = LeaseRefreshSchedule()
            var model: [UInt64: Modelled] = [:]
            var now = BeaconInstant.zero
            var nextToken: UInt64 = 0
            let ttls: [Duration] = [.seconds(3), .seconds(6), .milliseconds(2_500)]

            func check(_ actions: [LeaseRefreshSchedule.Action], goneFor gone: UInt64? = nil) {
                for action in actions {
                    switch action {
                    case .refresh(let token, let sent):
                        #expect(model[token]?.inFlight == nil, "a second refresh in flight for \(token)")
                        #expect(sent == now)
                        model[token]?.inFlight = sent
                    case .report(let token, .renewed(_, let deadline)):
                        #expect(model[token]?.deadline == deadline)
                    case .report:
                        break
                    case .expire(let token):
                        guard let lease = model[token] else {
                            Issue.record("lease \(token) expired twice or after it was let go")
                            continue
                        }
                        if token != gone { #expect(now >= lease.deadline, "lease \(token) expired early") }
                        model[token] = nil
                    }
                }
                // Never lost: after the schedule has seen `now`, no lease past its deadline lives.
                for (token, lease) in model { #expect(lease.deadline > now, "lease \(token) outlived its deadline") }
            }

            for operation in operations {
                let choice = operation / 10
                switch operation % 10 {
                case 0, 1:
                    nextToken += 1
                    let ttl = ttls[choice % ttls.count]
                    schedule.add(nextToken, ttl: ttl, at: now)
                    model[nextToken] = Modelled(ttl: ttl, deadline: now.advanced(by: ttl))
                case 2:
                    guard let token = model.keys.sorted().dropFirst(choice % max(model.count, 1)).first else {
                        continue
                    }
                    schedule.remove(token)
                    model[token] = nil
                case 3, 4, 5:
                    // An answer to a refresh in flight, arriving now.
                    let flying = model.filter { $0.value.inFlight != nil }.keys.sorted()
                    guard !flying.isEmpty else { continue }
                    let token = flying[choice % flying.count]
                    let sent = model[token]!.inFlight!
                    model[token]!.inFlight = nil
                    let answer: LeaseRefreshSchedule.Answer
                    switch operation % 10 {
                    case 3:
                        answer = .alive(sent: sent)
                        model[token]!.deadline = sent.advanced(by: model[token]!.ttl)
                    case 4: answer = .failed(sent: sent, error: .failure("unreachable"))
                    default: answer = choice % 4 == 0 ? .gone : .failed(sent: sent, error: .failure("unreachable"))
                    }
                    let gone = answer == .gone ? token : nil
                    check(schedule.answered(token, answer, at: now), goneFor: gone)
                    if gone != nil { #expect(model[token] == nil, "a lease the store said was gone lives on") }
                default:
                    // The shell wakes when asked, or later (a busy machine), never sooner.
                    guard let wake = schedule.nextWake() else {
                        #expect(model.isEmpty, "the schedule sleeps for ever while it keeps leases")
                        continue
                    }
                    // It never sleeps past a deadline, nor, with nothing in flight, past a refresh.
                    for lease in model.values { #expect(wake <= lease.deadline) }
                    now = max(now, wake).advanced(by: .milliseconds(Int64(choice % 5 == 0 ? choice * 37 : 0)))
                    check(schedule.due(at: now))
                }
            }
            #expect(schedule.count == model.count)
        }
    }
}
