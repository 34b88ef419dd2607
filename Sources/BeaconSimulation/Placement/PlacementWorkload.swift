/// The simulated cluster and traffic of a ``PlacementSimulation`` (`beacon bench placement`):
/// Poisson arrivals of calls to Zipf-popular functions on runners with finite slots.
public struct PlacementWorkload: Codable, Sendable, Hashable {
    /// Runners in the pool.
    public var runners: Int
    /// Concurrent calls each runner accepts before it NACKs.
    public var slots: Int
    /// Distinct functions.
    public var functions: Int
    /// Zipf exponent of function popularity (the k-th most popular is called ∝ k^-s).
    public var zipfExponent: Double
    /// Offered load: mean calls running ÷ total slots.
    public var utilisation: Double
    /// Mean run time of a call (exponentially distributed), in milliseconds.
    public var meanServiceMilliseconds: Double
    /// What one attempt costs the placer, accepted or refused, in microseconds.
    public var attemptMicroseconds: Double
    /// Simulated seconds of traffic; the first tenth warms up and is not measured.
    public var seconds: Double
    /// Seeds arrivals, popularity draws and run times: a workload repeats exactly.
    public var seed: UInt64

    /// A workload; the command line checks the ranges (positive counts and durations, finite
    /// numbers) before it builds one.
    public init(
        runners: Int, slots: Int, functions: Int, zipfExponent: Double, utilisation: Double,
        meanServiceMilliseconds: Double, attemptMicroseconds: Double, seconds: Double, seed: UInt64
    ) {
        self.runners = runners
        self.slots = slots
        self.functions = functions
        self.zipfExponent = zipfExponent
        self.utilisation = utilisation
        self.meanServiceMilliseconds = meanServiceMilliseconds
        self.attemptMicroseconds = attemptMicroseconds
        self.seconds = seconds
        self.seed = seed
    }

    /// Calls per second that give ``utilisation``.
    public var arrivalRate: Double {
        utilisation * Double(runners * slots) / (meanServiceMilliseconds / 1000)
    }
}
