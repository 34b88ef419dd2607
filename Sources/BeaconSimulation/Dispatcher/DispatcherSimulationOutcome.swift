import BenchmarkSupport

/// The figures a dispatcher simulation collects, and its ``verdict``.
public struct DispatcherSimulationOutcome: Sendable {
    /// The plan that ran.
    public let plan: DispatcherSimulationPlan
    /// Heartbeats the dispatcher accepted.
    public internal(set) var heartbeats = 0
    /// Time spent inside the dispatcher: heartbeat calls and (virtual time) advancing its clock.
    public internal(set) var dispatcherNanoseconds: Double = 0
    /// Process CPU time over the run (real time: dispatcher, its threads and the simulated agents).
    public internal(set) var processCPUSeconds: Double = 0
    /// Wall-clock seconds the heartbeat phase took.
    public internal(set) var elapsedSeconds: Double = 0
    /// Sampled heartbeat call times, in nanoseconds, each including a clock read.
    public internal(set) var latencySamples: [Double] = []
    /// Live heap bytes (the caller's ``SimulationHeapMeter``) plus touched arena bytes, per node;
    /// nil without a heap meter, when only the resident-memory difference is known.
    public internal(set) var bytesPerNode: Double?
    /// Resident memory growth over registration, per node: an upper bound, since memory freed
    /// meanwhile may stay resident.
    public internal(set) var residentBytesPerNode: Double = 0
    /// Nodes that went silent.
    public internal(set) var silent = 0
    /// Wheel expiry minus the node's deadline, in milliseconds, per silent node detected.
    public internal(set) var detectionLateness: [Double] = []
    /// Committed DOWN write minus the node's deadline, in milliseconds, per silent node detected.
    public internal(set) var commitLateness: [Double] = []
    /// Live nodes the dispatcher marked DOWN (or expired): must be 0.
    public internal(set) var falseDowns = 0
    /// Silent nodes past their deadline that were never marked DOWN: must be 0.
    public internal(set) var missedDowns = 0
    /// Store flushes that carried DOWN writes.
    public internal(set) var downFlushes = 0
    /// Assignment messages the streams received.
    public internal(set) var assignmentMessages = 0
    /// Bytes of those messages.
    public internal(set) var assignmentBytes = 0
    /// Task changes the messages carried.
    public internal(set) var assignmentChanges = 0
    /// Live streams whose final task set differs from the store's: must be 0.
    public internal(set) var assignmentMismatches = 0
    /// Virtual time: heartbeats timed for ``singleHeartbeatNanoseconds`` and
    /// ``batchedHeartbeatNanoseconds`` (ten per live node, at most 100 000).
    public internal(set) var timedHeartbeats = 0
    /// Virtual time: nanoseconds per heartbeat of live nodes in random order, one call each, with
    /// ids made just before (as a server decodes them); nil in real time.
    public internal(set) var singleHeartbeatNanoseconds: Double?
    /// Virtual time: the same heartbeats through the batch path, ``heartbeatsPerBatch`` at a time,
    /// per heartbeat; nil in real time.
    public internal(set) var batchedHeartbeatNanoseconds: Double?
    /// Heartbeats per batch in ``batchedHeartbeatNanoseconds``: what a relay might forward at once.
    public static let heartbeatsPerBatch = 100

    /// The problems found, one sentence each; empty when the dispatcher behaved.
    public internal(set) var verdict: [String] = []

    init(plan: DispatcherSimulationPlan) {
        self.plan = plan
    }

    /// The value below which `fraction` of `values` lie (nearest rank), 0 for none.
    public static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        values.sorted().percentileOfSorted(fraction) ?? 0
    }

    mutating func measureMemory(heapBytes: Int?, residentBytes: Int, arenaBytes: Int) {
        bytesPerNode = heapBytes.map { Double($0 + arenaBytes) / Double(plan.nodes) }
        residentBytesPerNode = Double(residentBytes) / Double(plan.nodes)
    }

    /// Counts one stream's messages, and whether it ended holding exactly the expected tasks.
    mutating func add(_ receiver: SimulatedAssignmentReceiver, expecting expected: Set<String>) {
        assignmentMessages += receiver.messages
        assignmentBytes += receiver.bytes
        assignmentChanges += receiver.changes
        if receiver.failed || receiver.heldTasks() != expected { assignmentMismatches += 1 }
    }

    /// Lateness and false or missed DOWNs from the agents' records, then the verdict.
    mutating func conclude(_ agents: [SimulatedAgent], endMicros: UInt64) {
        for agent in agents {
            if agent.silent {
                // A node whose deadline falls in the last second may not have been flushed yet.
                guard agent.deadlineMicros + 1_000_000 < endMicros else { continue }
                guard let detected = agent.detectedMicros, let committed = agent.committedMicros else {
                    missedDowns += 1
                    continue
                }
                detectionLateness.append((Double(detected) - Double(agent.deadlineMicros)) / 1000)
                commitLateness.append((Double(committed) - Double(agent.deadlineMicros)) / 1000)
            } else if agent.committedMicros != nil || agent.detectedMicros != nil {
                falseDowns += 1
            }
        }
        if falseDowns > 0 { verdict.append("\(falseDowns) live nodes were marked DOWN") }
        if missedDowns > 0 { verdict.append("\(missedDowns) silent nodes were never marked DOWN") }
        if assignmentMismatches > 0 {
            verdict.append("\(assignmentMismatches) nodes hold assignments that differ from the store")
        }
    }
}
