import BeaconCore
public import BeaconDispatcher

/// What a dispatcher simulation does, shared by ``VirtualDispatcherSimulation`` and
/// ``RealTimeDispatcherSimulation``: how many agents register, how long they run, which of them
/// go silent, and how hard the orchestrator churns tasks on the nodes that follow assignments.
///
/// ```swift
/// let plan = try DispatcherSimulationPlan(nodes: 10_000, duration: .seconds(60))
/// let outcome = try VirtualDispatcherSimulation(plan: plan).run()
/// assert(outcome.verdict.isEmpty)   // no live node DOWN, no silent one missed
/// ```
public struct DispatcherSimulationPlan: Sendable {
    /// The most nodes a plan may hold: the dispatcher's node table is sized for it up front.
    public static let maximumNodes = 1 << 24
    /// The shortest run: nodes silenced a third of the way in (and never before 10 s) must have
    /// passed their deadline, period × grace later, before the run ends.
    public static let minimumDuration = Duration.seconds(30)
    /// The longest run.
    public static let maximumDuration = Duration.seconds(24 * 3600)

    /// Simulated agents, each a registered node.
    public let nodes: Int
    /// Simulated time the agents heartbeat for.
    public let duration: Duration
    /// Fraction of the nodes that stop heartbeating at ``silenceAt``.
    public let silentFraction: Double
    /// The first this many nodes open an assignment stream, on which the orchestrator churns tasks.
    public let assignmentNodes: Int
    /// Task creations, updates and deletions per simulated second.
    public let churnPerSecond: Int
    /// Seeds the choice of silent nodes and the orchestrator's churn. (The dispatcher draws each
    /// heartbeat period's jitter from its own random source, so runs differ in their timings.)
    public let seed: UInt64

    /// A checked plan.
    ///
    /// - Throws: ``DispatcherSimulationPlanError`` naming the first input out of range.
    public init(
        nodes: Int, duration: Duration, silentFraction: Double = 0.01, assignmentNodes: Int = 0,
        churnPerSecond: Int = 0,
        seed: UInt64 = 1
    ) throws(DispatcherSimulationPlanError) {
        guard (1...Self.maximumNodes).contains(nodes) else { throw .nodes(nodes) }
        guard duration >= Self.minimumDuration, duration <= Self.maximumDuration else { throw .duration(duration) }
        guard (0...1).contains(silentFraction) else { throw .silentFraction(silentFraction) }
        guard (0...nodes).contains(assignmentNodes) else { throw .assignmentNodes(assignmentNodes, nodes: nodes) }
        guard churnPerSecond >= 0 else { throw .churnPerSecond(churnPerSecond) }
        self.nodes = nodes
        self.duration = duration
        self.silentFraction = silentFraction
        self.assignmentNodes = assignmentNodes
        self.churnPerSecond = churnPerSecond
        self.seed = seed
    }

    /// SwarmKit's dispatcher settings, with room for every node of the plan.
    public var configuration: DispatcherConfiguration {
        var configuration = DispatcherConfiguration()
        configuration.maximumNodes = nodes
        return configuration
    }

    /// When the silent nodes stop: a third of the way in, and late enough that their last beats,
    /// not their registrations, set their deadlines.
    public var silenceAt: Duration { max(duration / 3, .seconds(10)) }

    /// SwarmKit-shaped ids: 25 characters, so they do not fit Swift's inline small strings.
    static func nodeName(_ index: Int) -> String {
        let digits = String(index, radix: 16)
        return "node-" + String(repeating: "0", count: 20 - digits.count) + digits
    }

    /// The nodes, created in `store`, and each node's agent number.
    func makeAgents(in store: InMemoryDispatcherStore) -> ([SimulatedAgent], [NodeID: Int]) {
        // The names are well-formed by construction.
        let agents = (0..<nodes).map { SimulatedAgent(node: try! NodeID(Self.nodeName($0))) }
        store.createNodes(agents.map(\.node))
        return (agents, Dictionary(uniqueKeysWithValues: agents.indices.map { (agents[$0].node, $0) }))
    }

    /// The agents that go silent: `silentFraction` of them, drawn from the seed.
    func silentNodes() -> Set<Int> {
        var random = SplitMix64(seed: seed)
        var chosen = Set<Int>()
        let count = Int((Double(nodes) * silentFraction).rounded())
        while chosen.count < count { chosen.insert(Int(random.next(upperBound: UInt64(nodes)))) }
        return chosen
    }
}
