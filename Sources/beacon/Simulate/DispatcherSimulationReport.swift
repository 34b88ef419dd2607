import BeaconReports
import BeaconSimulation

extension DispatcherSimulationOutcome {
    /// `beacon simulate dispatcher`'s report: heartbeat cost and memory, DOWN detection, and
    /// assignments, each figure held to the issue's target where one was set.
    func report(virtualTime: Bool) -> BenchReport {
        let seconds = Double(plan.duration.components.seconds)
        var report = BenchReport(
            title:
                "Dispatcher simulation, \(plan.nodes) nodes, \(plan.duration) \(virtualTime ? "virtual" : "real") time",
            machine: MachineDescription.current, allocationCounting: true)
        var cost = BenchReport.Section(title: "heartbeats (5 s ± 500 ms period, grace × 3)")
        cost.add("heartbeats", Double(heartbeats), "")
        let perThousand = dispatcherNanoseconds / Double(max(heartbeats, 1)) * 1000 / 1000
        if virtualTime {
            cost.add("dispatcher time per 1 000 heartbeats (beats, wheel sweeps, flushes)", perThousand, "µs")
            let share = dispatcherNanoseconds / 1e9 / seconds * 100
            cost.add(
                "dispatcher share of one core at this node count", share, "%", atMost: plan.nodes >= 1_000_000 ? 5 : nil
            )
        } else {
            cost.add("heartbeat call time per 1 000 heartbeats", perThousand, "µs")
            cost.add(
                "process CPU per 1 000 heartbeats (dispatcher + agents)",
                processCPUSeconds * 1e6 / Double(max(heartbeats, 1)) * 1000, "µs")
            cost.add("process CPU, share of one core", processCPUSeconds / elapsedSeconds * 100, "%")
        }
        // Issue 23 holds the dispatcher's heartbeat path to 100 ns at a million nodes; a lone call
        // there waits on one memory latency, so the batch is what can meet it (docs/benchmarks.md).
        let pathTarget: Double? = plan.nodes >= 1_000_000 ? 100 : nil
        if let singleHeartbeatNanoseconds {
            cost.add(
                "heartbeat call, \(timedHeartbeats) beats of random live nodes, one call each",
                singleHeartbeatNanoseconds, "ns",
                atMost: pathTarget)
        }
        if let batchedHeartbeatNanoseconds {
            cost.add(
                "heartbeat call, the same in batches of \(Self.heartbeatsPerBatch) (per heartbeat)",
                batchedHeartbeatNanoseconds, "ns", atMost: pathTarget)
        }
        cost.add("heartbeat call p50 (sampled, includes a clock read)", Self.percentile(latencySamples, 0.5), "ns")
        cost.add("heartbeat call p99 (sampled, includes a clock read)", Self.percentile(latencySamples, 0.99), "ns")
        let memoryLabel = virtualTime ? "memory per registered node" : "memory per registered node, session stream open"
        if let bytesPerNode {
            cost.add("\(memoryLabel) (heap + arenas)", bytesPerNode, "bytes", atMost: virtualTime ? 200 : nil)
        }
        cost.add("\(memoryLabel) (resident growth, upper bound)", residentBytesPerNode, "bytes")
        report.sections.append(cost)

        var down = BenchReport.Section(title: "DOWN detection (\(silent) nodes silenced at once at \(plan.silenceAt))")
        down.add("detection lateness p50 (wheel expiry − deadline)", Self.percentile(detectionLateness, 0.5), "ms")
        down.add("detection lateness p99", Self.percentile(detectionLateness, 0.99), "ms", atMost: 20)
        down.add("committed DOWN lateness p99 (flush included)", Self.percentile(commitLateness, 0.99), "ms")
        down.add("committed DOWN lateness max", commitLateness.max() ?? 0, "ms", atMost: 1000)
        down.add("flushes that carried DOWN writes", Double(downFlushes), "")
        down.add("false DOWNs (live nodes marked DOWN)", Double(falseDowns), "", atMost: 0)
        down.add("missed DOWNs (silent nodes never marked DOWN)", Double(missedDowns), "", atMost: 0)
        report.sections.append(down)

        var assignments = BenchReport.Section(
            title: "assignments (\(plan.assignmentNodes) streams, \(plan.churnPerSecond) task writes/s)")
        assignments.add("messages", Double(assignmentMessages), "")
        assignments.add("bytes", Double(assignmentBytes), "bytes")
        assignments.add("changes", Double(assignmentChanges), "")
        assignments.add("bytes per change", Double(assignmentBytes) / Double(max(assignmentChanges, 1)), "bytes")
        assignments.add(
            "streams whose set differs from the store at the end", Double(assignmentMismatches), "", atMost: 0)
        report.sections.append(assignments)
        return report
    }
}
