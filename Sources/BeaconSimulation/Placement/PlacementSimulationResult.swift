/// What one placer did under one ``PlacementWorkload``. Every figure but ``simulationSeconds``
/// counts only calls that arrived after the warm-up.
public struct PlacementSimulationResult: Codable, Sendable {
    /// The placer's name.
    public var placer: String
    /// The workload it ran.
    public var workload: PlacementWorkload
    /// Calls that arrived after the warm-up and finished placing (all of them: the simulation
    /// runs until the last call is placed or given up).
    public var calls: Int
    /// Calls the placer gave up on (its timeout passed with every runner full).
    public var failed: Int
    /// Refusals per call.
    public var nacksPerCall: Double
    /// Placement latency in microseconds (Fn's `lb_placer_latency`: arrival to the start of the
    /// accepted attempt, so NACK round trips and retry pauses), median.
    public var latencyP50: Double
    /// The same, 99th percentile.
    public var latencyP99: Double
    /// The same, 99.9th percentile.
    public var latencyP999: Double
    /// Share of placed calls that ran on their function's home runner.
    public var locality: Double
    /// Time-averaged busy slots of each runner ÷ the average over runners, sorted ascending.
    public var sortedLoadRatios: [Double]
    /// Wall-clock seconds the simulation took.
    public var simulationSeconds: Double
    /// Calls that arrived after the warm-up, counted as they arrive; equals ``calls``.
    public var arrivals = 0
    /// Calls a runner accepted; with ``failed``, accounts for every call once.
    public var placed = 0

    /// The busiest runner's load over the average.
    public var maxOverAverage: Double { sortedLoadRatios.last ?? 0 }

    /// The report's fields; the two tallies are for checking the simulation, not for reports.
    private enum CodingKeys: String, CodingKey {
        case placer, workload, calls, failed, nacksPerCall, latencyP50, latencyP99, latencyP999, locality,
            sortedLoadRatios
        case simulationSeconds
    }
}
