public import BeaconCore

/// The placers by name, for choosing one from configuration.
public enum PlacerKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// ``CallPlacer/naive(config:metrics:clock:)``.
    case naive
    /// ``CallPlacer/consistentHash(mode:config:metrics:clock:)`` with the uniform jump hash.
    case consistentHash = "ch"
    /// ``CallPlacer/consistentHash(mode:config:metrics:clock:)`` in Fn's order.
    case consistentHashFnCompatible = "ch-fn"
    /// ``CallPlacer/boundedLoad(epsilon:config:metrics:clock:)`` with ε = 0.1.
    case boundedLoad = "bounded-load"
    /// ``CallPlacer/powerOfTwo(config:metrics:clock:)``.
    case powerOfTwo = "power-of-two"

    /// Fn's rule for its `FN_PLACER` setting: `ch` selects consistent hashing, anything else
    /// (including nothing) the naive placer.
    public init(fnPlacerSetting: String?) {
        self = fnPlacerSetting == "ch" ? .consistentHash : .naive
    }

    public var description: String { rawValue }

    /// The core algorithm that picks where this placer's calls go first, from the core's one
    /// list: jump hash for consistent hashing, the request-level bounded-load balancer for
    /// `bounded-load` (not the key-level `BoundedLoadTable` that `bench placers` calls
    /// `bounded-load`), power of two choices for `power-of-two`. Nil for Fn's bug-compatible jump
    /// hash, which no core placer runs, and for the naive placer: its rotating start
    /// (``RoundRobinOrder``) walks the runner list each call brings, while the core's round robin
    /// rotates over a member table of its own.
    public var coreAlgorithm: PlacerAlgorithm? {
        switch self {
        case .naive, .consistentHashFnCompatible: nil
        case .consistentHash: .jump
        case .boundedLoad: .boundedLoadRequests
        case .powerOfTwo: .powerOfTwo
        }
    }

    /// A new placer of this kind, timing its waits and deadlines on `clock`.
    public func makePlacer(
        config: PlacerConfig = .default, metrics: PlacerMetrics = PlacerMetrics(),
        clock: some BeaconClock = MonotonicClock()
    ) -> any RunnerPlacer {
        switch self {
        case .naive: CallPlacer.naive(config: config, metrics: metrics, clock: clock)
        case .consistentHash: CallPlacer.consistentHash(config: config, metrics: metrics, clock: clock)
        case .consistentHashFnCompatible:
            CallPlacer.consistentHash(mode: .fnCompatible, config: config, metrics: metrics, clock: clock)
        // The default ε is valid, so this cannot throw.
        case .boundedLoad: try! CallPlacer.boundedLoad(config: config, metrics: metrics, clock: clock)
        case .powerOfTwo: CallPlacer.powerOfTwo(config: config, metrics: metrics, clock: clock)
        }
    }
}
