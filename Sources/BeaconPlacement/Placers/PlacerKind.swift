/// The placers by name, for choosing one from configuration.
public enum PlacerKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// ``CallPlacer/naive(config:metrics:)``.
    case naive
    /// ``CallPlacer/consistentHash(mode:config:metrics:)`` with the uniform jump hash.
    case consistentHash = "ch"
    /// ``CallPlacer/consistentHash(mode:config:metrics:)`` in Fn's order.
    case consistentHashFnCompatible = "ch-fn"
    /// ``CallPlacer/boundedLoad(epsilon:config:metrics:)`` with ε = 0.1.
    case boundedLoad = "bounded-load"
    /// ``CallPlacer/powerOfTwo(config:metrics:)``.
    case powerOfTwo = "power-of-two"

    /// Fn's rule for its `FN_PLACER` setting: `ch` selects consistent hashing, anything else
    /// (including nothing) the naive placer.
    public init(fnPlacerSetting: String?) {
        self = fnPlacerSetting == "ch" ? .consistentHash : .naive
    }

    public var description: String { rawValue }

    /// A new placer of this kind.
    public func makePlacer(config: PlacerConfig = .default, metrics: PlacerMetrics = PlacerMetrics()) -> any RunnerPlacer {
        switch self {
        case .naive: CallPlacer.naive(config: config, metrics: metrics)
        case .consistentHash: CallPlacer.consistentHash(config: config, metrics: metrics)
        case .consistentHashFnCompatible: CallPlacer.consistentHash(mode: .fnCompatible, config: config, metrics: metrics)
        // The default ε is valid, so this cannot throw.
        case .boundedLoad: try! CallPlacer.boundedLoad(config: config, metrics: metrics)
        case .powerOfTwo: CallPlacer.powerOfTwo(config: config, metrics: metrics)
        }
    }
}
