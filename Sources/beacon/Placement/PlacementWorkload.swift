/// The simulated cluster and traffic of `beacon bench placement`.
struct PlacementWorkload: Codable, Sendable {
    /// Runners in the pool.
    var runners: Int
    /// Concurrent calls each runner accepts before it NACKs.
    var slots: Int
    /// Distinct functions.
    var functions: Int
    /// Zipf exponent of function popularity (the k-th most popular is called ∝ k^-s).
    var zipfExponent: Double
    /// Offered load: mean calls running ÷ total slots.
    var utilisation: Double
    /// Mean run time of a call (exponentially distributed), in milliseconds.
    var meanServiceMilliseconds: Double
    /// What one attempt costs the placer, accepted or refused, in microseconds.
    var attemptMicroseconds: Double
    /// Simulated seconds of traffic; the first tenth warms up and is not measured.
    var seconds: Double
    var seed: UInt64

    /// Calls per second that give ``utilisation``.
    var arrivalRate: Double {
        utilisation * Double(runners * slots) / (meanServiceMilliseconds / 1000)
    }
}

/// What one placer did under one workload.
struct PlacementSimulationResult: Codable, Sendable {
    var placer: String
    var workload: PlacementWorkload
    /// Calls that arrived after the warm-up.
    var calls: Int
    var failed: Int
    var nacksPerCall: Double
    /// Placement latency in microseconds (Fn's `lb_placer_latency`: arrival to the start of the
    /// accepted attempt, so NACK round trips and retry pauses).
    var latencyP50: Double
    var latencyP99: Double
    var latencyP999: Double
    /// Share of calls placed on their function's home runner.
    var locality: Double
    /// Time-averaged busy slots of each runner ÷ the average over runners, sorted ascending.
    var sortedLoadRatios: [Double]
    /// Wall-clock seconds the simulation took.
    var simulationSeconds: Double

    var maxOverAverage: Double { sortedLoadRatios.last ?? 0 }
}
