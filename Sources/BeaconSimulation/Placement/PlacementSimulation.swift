import BeaconCore
public import BeaconPlacement
import BenchmarkSupport
import CoreMetrics
import Foundation

/// A discrete-event simulation of one placer in virtual time: Poisson arrivals of calls to
/// Zipf-popular functions, runners with finite slots that NACK when full, exponential run
/// times. Each call is placed by the library's own `PlacementAttempt` with the placer's
/// `PlacementOrder` — the simulation only plays the runners and the clock. To compare the
/// library's placers by name, see ``BeaconPlacement/PlacerKind/simulate(_:epsilon:config:)``.
public struct PlacementSimulation<Order: PlacementOrder> {
    /// The placer's name in the result.
    public let name: String
    /// The cluster and traffic.
    public let workload: PlacementWorkload
    /// The placer's order over the runners.
    public let order: Order
    /// The runner a function's calls go to on an idle cluster.
    public let home: (PlainCall) -> Int
    /// The placer's retry pause and timeouts.
    public let config: PlacerConfig

    /// A simulation of `order` under `workload`; `home` gives each call's home runner, against
    /// which ``PlacementSimulationResult/locality`` is measured.
    public init(
        name: String, workload: PlacementWorkload, order: Order, home: @escaping (PlainCall) -> Int,
        config: PlacerConfig = .default
    ) {
        self.name = name
        self.workload = workload
        self.order = order
        self.home = home
        self.config = config
    }

    private struct InFlight {
        var attempt: PlacementAttempt<Order>
        let arrival: UInt64
        let homeRunner: Int
        var runner = -1
        var nacks = 0
    }

    private enum EventKind: UInt8 {
        case arrival, refused, finished, woke
    }

    /// Runs the workload's traffic to the end and until the last call is placed or given up.
    public func run() -> PlacementSimulationResult {
        let wall = MonotonicClock()
        let wallStart = wall.now
        var random = SplitMix64(seed: workload.seed)
        let runners = (0..<workload.runners).map { SimulatedRunner(address: "runner-\($0)", slots: workload.slots) }
        let list: [any Runner] = runners
        let calls = (0..<workload.functions).map {
            PlainCall(CallModel(id: "call-\($0)", functionID: "function-\($0)"))
        }
        let homes = calls.map(home)
        let popularity = ZipfSampler(count: workload.functions, exponent: workload.zipfExponent)
        let metrics = PlacerMetrics(factory: NOOPMetricsHandler.instance)
        func instant(_ nanoseconds: UInt64) -> BeaconInstant { BeaconInstant(nanoseconds: nanoseconds) }

        let end = UInt64(workload.seconds * 1e9)
        let warmUp = end / 10
        let attemptCost = UInt64(workload.attemptMicroseconds * 1000)
        let meanGap = 1e9 / workload.arrivalRate
        let meanService = workload.meanServiceMilliseconds * 1e6

        var events = EventQueue()
        var inFlight: [InFlight?] = []
        var freeSlots: [Int] = []
        var latencies: [Double] = []
        var measured = 0
        var arrivals = 0
        var placed = 0
        var failed = 0
        var nacks = 0
        var atHome = 0
        var busyIntegral = [Double](repeating: 0, count: runners.count)
        var lastChange = [UInt64](repeating: warmUp, count: runners.count)

        func loadChanged(_ runner: Int, at time: UInt64) {
            // Only the measured window [warmUp, end] counts.
            let from = max(lastChange[runner], warmUp)
            let to = min(time, end)
            if to > from { busyIntegral[runner] += Double(runners[runner].load) * Double(to - from) }
            lastChange[runner] = max(lastChange[runner], time)
        }

        // Every id handed to `drive` and named by an event is in flight: a slot is freed only at
        // `.finish`, after which no event names it.
        func drive(_ id: Int, _ first: PlacementAction, at time: UInt64) {
            var action = first
            while true {
                switch action {
                case .fetchRunners:
                    action = inFlight[id]!.attempt.runnersFetched(list, now: instant(time), isCancelled: false)
                case .tryRunner(let index):
                    let isMeasured = inFlight[id]!.arrival >= warmUp
                    loadChanged(index, at: time)
                    if runners[index].admit() {
                        inFlight[id]!.runner = index
                        if isMeasured {
                            latencies.append(Double(time - inFlight[id]!.arrival) / 1000)
                            if index == inFlight[id]!.homeRunner { atHome += 1 }
                        }
                        let service = UInt64(-meanService * log(Double.random(in: .ulpOfOne..<1, using: &random)))
                        events.push(time + attemptCost + service, id, EventKind.finished.rawValue)
                    } else {
                        inFlight[id]!.nacks += 1
                        events.push(time + attemptCost, id, EventKind.refused.rawValue)
                    }
                    return
                case .wait(let wake):
                    events.push(wake.nanoseconds, id, EventKind.woke.rawValue)
                    return
                case .finish:
                    let call = inFlight[id]!
                    if call.arrival >= warmUp {
                        measured += 1
                        nacks += call.nacks
                        switch call.attempt.result {
                        case .placed: placed += 1
                        case .notPlaced, nil: failed += 1
                        }
                    }
                    inFlight[id] = nil
                    freeSlots.append(id)
                    return
                }
            }
        }

        events.push(0, -1, EventKind.arrival.rawValue)
        while let event = events.pop() {
            let time = event.time
            switch EventKind(rawValue: event.kind)! {
            case .arrival:
                let function = popularity.sample(using: &random)
                if time >= warmUp { arrivals += 1 }
                let attempt = PlacementAttempt(
                    order: order, call: calls[function], config: config, metrics: metrics, requestDeadline: nil,
                    now: instant(time))
                let state = InFlight(attempt: attempt, arrival: time, homeRunner: homes[function])
                let id: Int
                if let reused = freeSlots.popLast() {
                    id = reused
                    inFlight[id] = state
                } else {
                    id = inFlight.count
                    inFlight.append(state)
                }
                drive(id, state.attempt.begin(), at: time)
                let gap = UInt64(-meanGap * log(Double.random(in: .ulpOfOne..<1, using: &random)))
                if time + gap < end { events.push(time + gap, -1, EventKind.arrival.rawValue) }
            case .refused:
                let action = inFlight[event.call]!.attempt.runnerAnswered(
                    .refused(.busy), now: instant(time), isCancelled: false)
                drive(event.call, action, at: time)
            case .finished:
                let runner = inFlight[event.call]!.runner
                loadChanged(runner, at: time)
                runners[runner].finish()
                let action = inFlight[event.call]!.attempt.runnerAnswered(
                    .placed(nil), now: instant(time), isCancelled: false)
                drive(event.call, action, at: time)
            case .woke:
                let action = inFlight[event.call]!.attempt.woke(now: instant(time), isCancelled: false)
                drive(event.call, action, at: time)
            }
        }
        for runner in runners.indices where lastChange[runner] < end { loadChanged(runner, at: end) }

        let averageBusy = busyIntegral.reduce(0, +) / Double(max(1, busyIntegral.count))
        latencies.sort()
        return PlacementSimulationResult(
            placer: name,
            workload: workload,
            calls: measured,
            failed: failed,
            nacksPerCall: Double(nacks) / Double(max(1, measured)),
            latencyP50: latencies.percentileOfSorted(0.5) ?? 0,
            latencyP99: latencies.percentileOfSorted(0.99) ?? 0,
            latencyP999: latencies.percentileOfSorted(0.999) ?? 0,
            locality: Double(atHome) / Double(max(1, latencies.count)),
            sortedLoadRatios: busyIntegral.map { averageBusy > 0 ? $0 / averageBusy : 0 }.sorted(),
            simulationSeconds: Stopwatch.seconds(wall.now.duration(since: wallStart)),
            arrivals: arrivals,
            placed: placed
        )
    }
}
