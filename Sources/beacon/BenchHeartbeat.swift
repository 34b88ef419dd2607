import ArgumentParser
import BeaconCore
import BeaconReports
import BenchmarkSupport
import Foundation

struct BenchHeartbeat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heartbeat",
        abstract:
            "Measure the heartbeat wheel: beat cost, memory, sweep cost, real-time expiry lateness, idle and steady-state cost."
    )

    @OptionGroup var output: ReportFormatOption

    static let nodeCounts = OptionValue.integer(in: 10_000...16_000_000)
    static let repeatCounts = OptionValue.integer(in: 1...100)
    static let idleTimes = OptionValue.duration(in: .milliseconds(100)...(.seconds(600)))
    static let steadyTimes = OptionValue.duration(in: .seconds(1)...(.seconds(600)))
    static let defaultNodes = 1_000_000
    static let defaultRepeats = 5
    static let defaultIdle = DurationArgument(.seconds(10))
    static let defaultSteady = DurationArgument(.seconds(10))

    @Option(
        help: Self.nodeCounts.help(
            "Nodes in the large measurements", default: Self.defaultNodes,
            "Beats are also measured at 10 000 and 100 000."),
        transform: Self.nodeCounts.parse)
    var nodes = Self.defaultNodes

    @Option(
        help: Self.repeatCounts.help(
            "Timed repeats per micro-measurement", default: Self.defaultRepeats, "The median is reported."),
        transform: Self.repeatCounts.parse)
    var repeats = Self.defaultRepeats

    @Option(
        help: Self.idleTimes.help("How long to watch an idle timer for wake-ups", default: Self.defaultIdle),
        transform: Self.idleTimes.parse)
    var idle = Self.defaultIdle

    @Option(
        help: Self.steadyTimes.help(
            "How long to run the steady state (every node beating every 5s)", default: Self.defaultSteady),
        transform: Self.steadyTimes.parse)
    var steady = Self.defaultSteady

    func run() throws {
        let counting = AllocationCounter.isActive
        let bench = HeartbeatBenchmark(repeats: repeats, countAllocations: counting)
        var report = BenchReport(
            title: "Heartbeat wheel benchmark, \(nodes) nodes", machine: MachineDescription.current,
            allocationCounting: counting)
        let sizes = [10_000, 100_000, nodes].reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }

        var beats = BenchReport.Section(title: "beat (random order, release build)")
        for n in sizes {
            progress("beats at \(n) nodes")
            let single = try bench.beats(nodes: n, threads: 1, cachedClock: true)
            let double = try bench.beats(nodes: n, threads: 2, cachedClock: true)
            let uncached = try bench.beats(nodes: n, threads: 1, cachedClock: false)
            let limit: Double? = n == 10_000 ? 3 : n == 1_000_000 ? 10 : nil
            beats.add("\(n) nodes, 1 thread", single.nanoseconds, "ns", atMost: limit)
            beats.add("\(n) nodes, 2 threads (wall time per beat)", double.nanoseconds, "ns")
            beats.add(
                "\(n) nodes, 2 threads ÷ 1 thread throughput", single.nanoseconds / double.nanoseconds, "x",
                atLeast: 1.7)
            beats.add("\(n) nodes, clock read per beat (cache withdrawn)", uncached.nanoseconds, "ns")
            let batched = try bench.beats(nodes: n, threads: 1, cachedClock: true, batch: 64)
            beats.add("\(n) nodes, batches of 64, 1 thread (per beat)", batched.nanoseconds, "ns", atMost: limit)
            beats.add(
                "\(n) nodes, batches of 64 ÷ single beats, throughput", single.nanoseconds / batched.nanoseconds, "x")
            if let allocations = single.allocationsPerBeat {
                beats.add("\(n) nodes, allocations per beat", allocations, "", atMost: 0)
            }
        }
        report.sections.append(beats)

        progress("register / remove and sweeps at \(nodes) nodes")
        var structure = BenchReport.Section(title: "registration, sweeps and memory")
        let registration = try bench.registerAndRemove(nodes: nodes)
        structure.add("register", registration.register, "ns")
        structure.add("remove", registration.remove, "ns")
        let sweeps = try bench.sweeps(nodes: nodes)
        structure.add("sweep: expire one node (virtual time)", sweeps.expiryNanoseconds, "ns")
        structure.add("sweep: re-file one beaten node", sweeps.refileNanoseconds, "ns")
        if let allocations = sweeps.allocationsPerExpiry {
            structure.add("allocations per expiry", allocations, "", atMost: 0)
        }
        structure.add(
            "timer-layer bytes per node (deadline + link + state)", Double(HeartbeatWheel<MonotonicClock>.bytesPerNode),
            "B", atMost: 16)
        structure.add(
            "wheel slots, fixed whatever the node count (1 ms slots, 120 s maximum TTL)",
            Double(try bench.wheel(capacity: 1).fixedBytes) / 1024, "KiB")
        structure.add(
            "resident bytes per node, measured", try bench.residentBytesPerNode(nodes: nodes), "B", atMost: 24)
        report.sections.append(structure)

        var realTime = BenchReport.Section(title: "real time (HeartbeatTimer thread)")
        for (slot, limit) in [(Duration.milliseconds(1), 2.0), (.milliseconds(10), 20.0)] {
            progress("expiry lateness: \(nodes) expiries within one second, \(slot) slots")
            let lateness = try RealTimeHeartbeatBenchmark.lateness(nodes: nodes, slot: slot, countAllocations: counting)
            realTime.add("lateness p50, \(slot) slots", lateness.p50, "ms")
            realTime.add("lateness p99, \(slot) slots", lateness.p99, "ms", atMost: limit)
            realTime.add("lateness max, \(slot) slots", lateness.max, "ms")
            if let allocations = lateness.allocationsPerExpiry {
                realTime.add("allocations per expiry, \(slot) slots", allocations, "", atMost: 0.01)
            }
        }
        progress("idle: \(nodes) armed nodes, \(idle)")
        realTime.add(
            "wake-ups in \(idle) idle",
            Double(try RealTimeHeartbeatBenchmark.idleWakeUps(nodes: nodes, seconds: Stopwatch.seconds(idle.value))),
            "", atMost: 0)
        for slot in [Duration.milliseconds(1), .milliseconds(10)] {
            progress("steady state: \(nodes) nodes beating every 5 s, \(slot) slots, \(self.steady)")
            let steady = try RealTimeHeartbeatBenchmark.steadyState(
                nodes: nodes, slot: slot, seconds: Stopwatch.seconds(self.steady.value))
            realTime.add("steady state, \(slot) slots: timer thread CPU", steady.timerPercent, "% of a core", atMost: 1)
            realTime.add(
                "steady state, \(slot) slots: beating thread CPU (\(nodes / 5) beats/s)", steady.beatPercent,
                "% of a core")
            realTime.add("steady state, \(slot) slots: timer wake-ups", steady.wakeUpsPerSecond, "per s")
        }
        report.sections.append(realTime)

        print(try report.rendered(as: output.format))
    }

}

/// "2 cores, Linux 6.x, Swift 6.3.1 release" style description for reports.
enum MachineDescription {
    static var current: String {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let os = ProcessInfo.processInfo.operatingSystemVersionString
        return "\(cores) cores, \(os)"
    }
}
