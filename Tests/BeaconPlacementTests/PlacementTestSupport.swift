import BeaconCore
import BeaconPrimitives
import CoreMetrics
import MetricsTestKit

@testable import BeaconPlacement

struct TestCall: RunnerCall {
    var slotHashID = "slot"
    var extensions: [String: String] = [:]
    var model: CallModel

    init(function: String = "fn1", type: CallType = .sync) {
        model = CallModel(id: "call-\(function)", functionID: function, type: type)
    }
}

/// A function the user got wrong: Fn's `ErrFunctionFailed`, a FuncError with status 502.
struct FunctionFailed: FunctionError, Equatable {
    var statusCode: Int { 502 }
}

/// A platform error with status 500 (Fn's `ErrCallHandlerNotFound`): not the user's.
struct HandlerNotFound: Error, Equatable {}

/// A FunctionError wrapped in another error, which must not fail fast.
struct Wrapped: Error {
    let inner: any Error
}

/// A user function error with a status other than 502.
struct FunctionBroke: FunctionError, Equatable {
    var statusCode: Int { 500 }
}

/// Something a runner's function threw.
struct FunctionCrashed: Error, Equatable {}

/// A runner that answers from a script and counts its attempts.
final class ScriptedRunner: Runner {
    enum Reply: Sendable {
        case accept
        case busy
        case refuse(RunnerRefusal)
        case fail(any Error)
        /// Runs the call this long on the runner's clock, then accepts.
        case run(Duration)
    }

    let address: String
    private let clock: ManualClock
    private let reply: @Sendable (Int) -> Reply
    private let attempts = PosixMutex(0)

    init(_ address: String, clock: ManualClock = ManualClock(), reply: @escaping @Sendable (Int) -> Reply) {
        self.address = address
        self.clock = clock
        self.reply = reply
    }

    convenience init(_ address: String, clock: ManualClock = ManualClock(), always: Reply) {
        self.init(address, clock: clock) { _ in always }
    }

    var attemptCount: Int { attempts.withLock { $0 } }

    /// The reply to the next attempt, counting it.
    func nextReply() -> Reply {
        reply(
            attempts.withLock { count in
                count += 1
                return count
            })
    }

    nonisolated(nonsending) func tryExec<Call: RunnerCall>(_ call: Call, deadline: BeaconInstant?) async throws -> Bool
    {
        switch nextReply() {
        case .accept: return true
        case .busy: return false
        case .refuse(let refusal): throw refusal
        case .fail(let error): throw error
        case .run(let duration):
            try await clock.sleep(for: duration)
            return true
        }
    }

    func status() async throws -> RunnerStatus { RunnerStatus(requestsReceived: UInt64(attemptCount)) }
    func close() async throws {}
}

/// A pool that answers each fetch from a script and counts fetches.
final class ScriptedPool: RunnerPool {
    private let script: @Sendable (Int) -> Result<[any Runner], any Error>
    private let fetches = PosixMutex(0)

    init(_ script: @escaping @Sendable (Int) -> Result<[any Runner], any Error>) {
        self.script = script
    }

    convenience init(always runners: [any Runner]) {
        self.init { _ in .success(runners) }
    }

    var fetchCount: Int { fetches.withLock { $0 } }

    /// The answer to the next fetch, counting it.
    func nextFetch() -> Result<[any Runner], any Error> {
        script(
            fetches.withLock { count in
                count += 1
                return count
            })
    }

    nonisolated(nonsending) func runners<Call: RunnerCall>(for call: Call) async throws -> [any Runner] {
        try nextFetch().get()
    }

    func shutdown() async throws {}
}

/// Metrics kept in a private test backend.
struct MeasuredMetrics {
    let backend = TestMetrics()
    var placer: PlacerMetrics { PlacerMetrics(factory: backend) }

    func count(_ name: String) -> Int64 {
        (try? backend.expectCounter(name).totalValue) ?? 0
    }

    func attempts() -> [Int64] {
        (try? backend.expectRecorder("lb_placer_attempt_count").values.map { Int64($0) }) ?? []
    }

    func latencies() -> [Int64] {
        (try? backend.expectTimer("lb_placer_latency").values) ?? []
    }
}

/// Drives a ``PlacementAttempt`` in virtual time against scripted runners and pools: every
/// runner answer takes `attemptCost`, fetches take no time, waits end at their instant.
struct VirtualPlacement<Order: PlacementOrder> {
    var attempt: PlacementAttempt<Order>
    let start = BeaconInstant(nanoseconds: 1_000_000_000)
    var now: BeaconInstant
    let attemptCost: Duration
    /// Cancels the request when this much virtual time has passed.
    var cancelAfter: Duration?
    var tried: [String] = []

    init(
        order: Order,
        call: TestCall = TestCall(),
        config: PlacerConfig,
        metrics: PlacerMetrics,
        requestDeadline: Duration? = nil,
        attemptCost: Duration = .microseconds(100),
        cancelAfter: Duration? = nil
    ) {
        now = start
        self.attemptCost = attemptCost
        self.cancelAfter = cancelAfter
        let start = self.start
        attempt = PlacementAttempt(
            order: order, call: call, config: config, metrics: metrics,
            requestDeadline: requestDeadline.map { start.advanced(by: $0) }, now: start)
    }

    var isCancelled: Bool { cancelAfter.map { now.duration(since: start) >= $0 } ?? false }
    var elapsed: Duration { now.duration(since: start) }

    /// Runs the placement to its end.
    mutating func run(_ pool: ScriptedPool) -> PlacementResult {
        var runners: [any Runner] = []
        var action = attempt.begin()
        while true {
            switch action {
            case .fetchRunners:
                switch pool.nextFetch() {
                case .success(let list):
                    runners = list
                    action = attempt.runnersFetched(list, now: now, isCancelled: isCancelled)
                case .failure(let error):
                    runners = []
                    action = attempt.fetchFailed(error, now: now, isCancelled: isCancelled)
                }
            case .tryRunner(let index):
                let runner = runners[index] as! ScriptedRunner
                tried.append(runner.address)
                now = now.advanced(by: attemptCost)
                let answer: RunnerAnswer
                switch runner.nextReply() {
                case .accept: answer = .placed(nil)
                case .busy: answer = .refused(.busy)
                case .refuse(let refusal): answer = .refused(refusal)
                case .fail(let error): answer = .placed(error)
                case .run(let duration):
                    now = now.advanced(by: duration)
                    answer = .placed(nil)
                }
                action = attempt.runnerAnswered(answer, now: now, isCancelled: isCancelled)
            case .wait(let wake):
                if let cancelAfter, start.advanced(by: cancelAfter) < wake {
                    now = start.advanced(by: cancelAfter)
                } else {
                    now = wake
                }
                action = attempt.woke(now: now, isCancelled: isCancelled)
            case .finish:
                return attempt.result!
            }
        }
    }
}

extension PlacementResult {
    var isServerBusy: Bool {
        if case .notPlaced(let error) = self { return (error as? CallPlacementError) == .serverBusy }
        return false
    }

    var placedSuccessfully: Bool {
        if case .placed(nil) = self { return true }
        return false
    }

    var error: (any Error)? {
        switch self {
        case .placed(let error): error
        case .notPlaced(let error): error
        }
    }
}

func config(
    delay: Duration = .milliseconds(10), timeout: Duration = .milliseconds(500), detached: Duration = .seconds(30)
)
    -> PlacerConfig
{
    try! PlacerConfig(retryAllDelay: delay, placerTimeout: timeout, detachedPlacerTimeout: detached)
}

/// Runs `bodies` concurrently in virtual time: whenever every one of them is parked on `clock` or
/// done, moves the clock to the earliest deadline, until all are done; returns each one's outcome
/// in order. Only this driver moves the clock, so "parked or done" cannot change under it.
func runInVirtualTime(_ clock: ManualClock, _ bodies: [@Sendable () async throws -> Void]) async -> [Result<
    Void, any Error
>] {
    let done = PosixMutex(0)
    return await withTaskGroup(of: (Int, Result<Void, any Error>).self) { group in
        for (index, body) in bodies.enumerated() {
            group.addTask {
                let outcome: Result<Void, any Error>
                do {
                    try await body()
                    outcome = .success(())
                } catch {
                    outcome = .failure(error)
                }
                done.withLock { $0 += 1 }
                return (index, outcome)
            }
        }
        while done.withLock({ $0 }) < bodies.count {
            let parked = clock.sleeperCount
            if parked > 0, parked + done.withLock({ $0 }) == bodies.count, let next = clock.nextDeadline {
                try! clock.advance(to: next)
            } else {
                await Task.yield()
            }
        }
        var outcomes = [Result<Void, any Error>](repeating: .success(()), count: bodies.count)
        for await (index, outcome) in group { outcomes[index] = outcome }
        return outcomes
    }
}
