/// Measures the heap bytes a stretch of work leaves allocated, for a simulation's memory per
/// node. Counting the heap takes a malloc interposer linked into the executable (as the `beacon`
/// tool does), which a library cannot bring; without one, ``none`` reports only resident memory.
public struct SimulationHeapMeter: Sendable {
    let start: @Sendable () -> Void
    let stop: @Sendable () -> Int?

    /// A meter from the executable's counter: `start` begins counting, `stop` ends it and
    /// returns the live bytes since `start`, or nil when the counter sees no allocation at all.
    public init(start: @escaping @Sendable () -> Void, stop: @escaping @Sendable () -> Int?) {
        self.start = start
        self.stop = stop
    }

    /// No heap counter: ``DispatcherSimulationOutcome/bytesPerNode`` stays nil.
    public static let none = SimulationHeapMeter(start: {}, stop: { nil })
}
