import BenchmarkSupport
import BeaconCore
import BeaconDispatcher
import Foundation

/// What a dispatcher simulation does, shared by the virtual-time and real-time runs.
struct SimulationPlan {
    var nodes: Int
    var duration: Duration
    var silentFraction: Double
    var assignmentNodes: Int
    var churnPerSecond: Int
    var seed: UInt64

    var configuration: DispatcherConfiguration {
        var configuration = DispatcherConfiguration()
        configuration.maximumNodes = nodes
        return configuration
    }

    /// When the silent nodes stop: a third of the way in, and late enough that their last beats,
    /// not their registrations, set their deadlines.
    var silenceAt: Duration { max(duration / 3, .seconds(10)) }

    /// SwarmKit-shaped ids: 25 characters, so they do not fit Swift's inline small strings.
    static func nodeName(_ index: Int) -> String {
        let digits = String(index, radix: 16)
        return "node-" + String(repeating: "0", count: 20 - digits.count) + digits
    }

    /// The nodes, created in `store`, and each node's agent number.
    func makeAgents(in store: InMemoryDispatcherStore) -> ([SimulatedAgent], [NodeID: Int]) {
        progress("creating \(nodes) nodes")
        let agents = (0 ..< nodes).map { SimulatedAgent(node: try! NodeID(SimulationPlan.nodeName($0))) }
        store.createNodes(agents.map(\.node))
        return (agents, Dictionary(uniqueKeysWithValues: agents.indices.map { (agents[$0].node, $0) }))
    }

    func silentNodes() -> Set<Int> {
        var random = SplitMix64(seed: seed)
        var chosen = Set<Int>()
        let count = Int((Double(nodes) * silentFraction).rounded())
        while chosen.count < count { chosen.insert(Int(random.next(upperBound: UInt64(nodes)))) }
        return chosen
    }
}

/// The figures a simulation collects.
struct SimulationOutcome {
    var plan: SimulationPlan
    var heartbeats = 0
    /// Time spent inside the dispatcher: heartbeat calls and (virtual time) advancing its clock.
    var dispatcherNanoseconds: Double = 0
    /// Process CPU time over the run (real time: dispatcher, its threads and the simulated agents).
    var processCPUSeconds: Double = 0
    var elapsedSeconds: Double = 0
    var latencySamples: [Double] = []
    /// Live heap bytes (malloc interposer) plus touched arena bytes, per node; nil without the
    /// interposer, when only the resident-memory difference is known.
    var bytesPerNode: Double?
    /// Resident memory growth over registration, per node: an upper bound, since memory freed
    /// meanwhile may stay resident.
    var residentBytesPerNode: Double = 0
    var silent = 0
    /// Wheel expiry minus the node's deadline, in milliseconds.
    var detectionLateness: [Double] = []
    /// Committed DOWN write minus the node's deadline, in milliseconds.
    var commitLateness: [Double] = []
    var falseDowns = 0
    var missedDowns = 0
    var downFlushes = 0
    var assignmentMessages = 0
    var assignmentBytes = 0
    var assignmentChanges = 0
    var assignmentMismatches = 0
    var verdict: [String] = []

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
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

    mutating func judge() {
        if falseDowns > 0 { verdict.append("\(falseDowns) live nodes were marked DOWN") }
        if missedDowns > 0 { verdict.append("\(missedDowns) silent nodes were never marked DOWN") }
        if assignmentMismatches > 0 { verdict.append("\(assignmentMismatches) nodes hold assignments that differ from the store") }
    }

    func report(virtualTime: Bool) -> BenchReport {
        let seconds = Double(plan.duration.components.seconds)
        var report = BenchReport(
            title: "Dispatcher simulation, \(plan.nodes) nodes, \(plan.duration) \(virtualTime ? "virtual" : "real") time",
            machine: MachineDescription.current, allocationCounting: true)
        var cost = BenchReport.Section(title: "heartbeats (5 s ± 500 ms period, grace × 3)")
        cost.add("heartbeats", Double(heartbeats), "")
        let perThousand = dispatcherNanoseconds / Double(max(heartbeats, 1)) * 1000 / 1000
        if virtualTime {
            cost.add("dispatcher time per 1 000 heartbeats (beats, wheel sweeps, flushes)", perThousand, "µs")
            let share = dispatcherNanoseconds / 1e9 / seconds * 100
            cost.add("dispatcher share of one core at this node count", share, "%", atMost: plan.nodes >= 1_000_000 ? 5 : nil)
        } else {
            cost.add("heartbeat call time per 1 000 heartbeats", perThousand, "µs")
            cost.add("process CPU per 1 000 heartbeats (dispatcher + agents)", processCPUSeconds * 1e6 / Double(max(heartbeats, 1)) * 1000, "µs")
            cost.add("process CPU, share of one core", processCPUSeconds / elapsedSeconds * 100, "%")
        }
        cost.add("heartbeat call p50 (sampled, includes a clock read)", SimulationOutcome.percentile(latencySamples, 0.5), "ns")
        cost.add("heartbeat call p99 (sampled, includes a clock read)", SimulationOutcome.percentile(latencySamples, 0.99), "ns")
        let memoryLabel = virtualTime ? "memory per registered node" : "memory per registered node, session stream open"
        if let bytesPerNode {
            cost.add("\(memoryLabel) (heap + arenas)", bytesPerNode, "bytes", atMost: virtualTime ? 200 : nil)
        }
        cost.add("\(memoryLabel) (resident growth, upper bound)", residentBytesPerNode, "bytes")
        report.sections.append(cost)

        var down = BenchReport.Section(title: "DOWN detection (\(silent) nodes silenced at once at \(plan.silenceAt))")
        down.add("detection lateness p50 (wheel expiry − deadline)", SimulationOutcome.percentile(detectionLateness, 0.5), "ms")
        down.add("detection lateness p99", SimulationOutcome.percentile(detectionLateness, 0.99), "ms", atMost: 20)
        down.add("committed DOWN lateness p99 (flush included)", SimulationOutcome.percentile(commitLateness, 0.99), "ms")
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
        assignments.add("streams whose set differs from the store at the end", Double(assignmentMismatches), "", atMost: 0)
        report.sections.append(assignments)
        return report
    }
}

/// One simulated agent's bookkeeping.
struct SimulatedAgent {
    var node: NodeID
    var session: SessionID?
    /// The latest deadline the dispatcher gave it, in microseconds of simulation time.
    var deadlineMicros: UInt64 = 0
    var silent = false
    var detectedMicros: UInt64?
    var committedMicros: UInt64?
}

/// Agents due to beat, by millisecond, in a ring longer than the longest period.
struct BeatSchedule {
    private var ring: [[Int32]]

    init(slots: Int = 8192) {
        ring = Array(repeating: [], count: slots)
    }

    mutating func schedule(_ agent: Int, atMillisecond millisecond: Int) {
        ring[millisecond % ring.count].append(Int32(agent))
    }

    /// The agents due at `millisecond`, removed from the ring.
    mutating func take(_ millisecond: Int, into buffer: inout [Int32]) {
        buffer.removeAll(keepingCapacity: true)
        swap(&buffer, &ring[millisecond % ring.count])
    }
}

/// The orchestrator's side: tasks created, changed and deleted on the nodes with assignment
/// streams, and what each node should hold.
struct TaskChurn {
    private var random: SplitMix64
    private var tasks: [[String]]
    private var nextTask = 0
    let nodes: [NodeID]

    init(nodes: [NodeID], seed: UInt64) {
        self.nodes = nodes
        tasks = Array(repeating: [], count: nodes.count)
        random = SplitMix64(seed: seed ^ 0xC0FFEE)
    }

    /// One orchestrator write: create a task (half the time), change one, or delete one.
    mutating func step(_ store: InMemoryDispatcherStore) {
        guard !nodes.isEmpty else { return }
        let slot = Int(random.next(upperBound: UInt64(nodes.count)))
        let choice = random.next(upperBound: UInt64(4))
        if choice < 2 || tasks[slot].isEmpty {
            nextTask += 1
            let id = "task-\(nextTask)"
            tasks[slot].append(id)
            store.putTask(DispatchedTask(
                id: id, nodeID: nodes[slot], status: TaskStatus(state: .assigned),
                spec: Array(repeating: UInt8(truncatingIfNeeded: nextTask), count: 64)))
        } else if choice == 2 {
            let index = Int(random.next(upperBound: UInt64(tasks[slot].count)))
            if var task = store.task(tasks[slot][index]) {
                task.spec[0] &+= 1
                store.putTask(task)
            }
        } else {
            let index = Int(random.next(upperBound: UInt64(tasks[slot].count)))
            store.deleteTask(tasks[slot].remove(at: index))
        }
    }

    /// The task ids the store holds for the node at `slot`.
    func expected(_ slot: Int) -> Set<String> {
        Set(tasks[slot])
    }
}

/// An assignment stream's receiving end in a simulation: applies every message and remembers
/// which tasks it holds.
struct SimulatedAssignmentReceiver {
    var applier = AssignmentApplier()
    var messages = 0
    var bytes = 0
    var changes = 0
    var failed = false

    mutating func receive(_ message: AssignmentMessage) {
        messages += 1
        bytes += message.bytes.count
        changes += message.changeCount
        do {
            try applier.apply(message)
        } catch {
            failed = true
        }
    }

    /// The task ids the node holds.
    func heldTasks() -> Set<String> {
        var held = Set<String>()
        for key in applier.table.sortedKeys() {
            guard let assignment = applier.table[key], case .task(let task)? = try? AssignedObject(decoding: assignment.payload) else { continue }
            held.insert(task.id)
        }
        return held
    }
}

/// The process's resident memory: the heap and the dispatcher's arenas as far as they were touched.
/// Memory freed during a measurement may stay resident, so a difference of two readings is an
/// upper bound.
func residentBytes() -> Int {
    ResidentMemory.bytes()
}
