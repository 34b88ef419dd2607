/// Strategies by name. ``standard`` holds the built-ins; add your own with
/// ``register(_:as:)`` and pass the registry in ``ScheduleOptions/registry``.
public struct StrategyRegistry: Sendable {
    private var strategies: [String: any SchedulingStrategy]

    /// `rr` (mgmt's sticky order, the default), `alpha`, `ring` and `weighted`.
    public static let standard = StrategyRegistry(strategies: [
        RoundRobinStrategy.name: RoundRobinStrategy(),
        AlphabeticalStrategy.name: AlphabeticalStrategy(),
        RingStrategy.name: RingStrategy(),
        WeightedStrategy.name: WeightedStrategy(),
    ])

    private init(strategies: [String: any SchedulingStrategy]) {
        self.strategies = strategies
    }

    /// The registered names, sorted.
    public var names: [String] { strategies.keys.sorted() }

    /// Adds `strategy` under `name`.
    ///
    /// - Throws: ``SchedulerError/strategyAlreadyRegistered(_:)``, or
    ///   ``SchedulerError/invalidOption(_:)`` for an empty name.
    public mutating func register(_ strategy: any SchedulingStrategy, as name: String) throws(SchedulerError) {
        guard !name.isEmpty else { throw .invalidOption("a strategy name must not be empty") }
        guard strategies[name] == nil else { throw .strategyAlreadyRegistered(name) }
        strategies[name] = strategy
    }

    /// The strategy registered under `name`.
    ///
    /// - Throws: ``SchedulerError/unknownStrategy(_:)``.
    public func strategy(named name: String) throws(SchedulerError) -> any SchedulingStrategy {
        guard let strategy = strategies[name] else { throw .unknownStrategy(name) }
        return strategy
    }
}
