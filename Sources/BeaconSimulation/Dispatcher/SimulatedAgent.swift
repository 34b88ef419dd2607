import BeaconDispatcher

/// One simulated agent's bookkeeping: its session, the latest deadline the dispatcher gave it,
/// and when (if ever) it was seen DOWN, in microseconds of simulation time.
struct SimulatedAgent {
    var node: NodeID
    var session: SessionID?
    var deadlineMicros: UInt64 = 0
    var silent = false
    var detectedMicros: UInt64?
    var committedMicros: UInt64?

    /// Takes the first instant each agent was reported, from events collected during the run.
    static func record(
        detected: [(Int, UInt64)], committed: [(Int, UInt64)], in agents: inout [SimulatedAgent]
    ) {
        for (index, at) in detected { agents[index].detectedMicros = agents[index].detectedMicros ?? at }
        for (index, at) in committed { agents[index].committedMicros = agents[index].committedMicros ?? at }
    }
}

extension Duration {
    /// Whole microseconds, for the agents' deadline arithmetic.
    var simulationMicros: UInt64 {
        UInt64(components.seconds) * 1_000_000 + UInt64(components.attoseconds / 1_000_000_000_000)
    }

    /// Whole milliseconds, for the beat schedule's slots.
    var simulationMilliseconds: Int { Int(components.seconds * 1000) }
}
