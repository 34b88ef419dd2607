/// How long a placer keeps trying (Fn's `PlacerConfig`, with Fn's defaults).
public struct PlacerConfig: Sendable, Hashable, CustomStringConvertible {
    /// The pause after a full pass over the runner list before fetching it again. Never applied
    /// before the first attempt or between runners within a pass.
    public let retryAllDelay: Duration
    /// How long the placer holds a call (not detached) across passes. It never cuts off a call a
    /// runner is already running.
    public let placerTimeout: Duration
    /// The same for detached calls.
    public let detachedPlacerTimeout: Duration

    /// Fn's defaults: 10 ms, 360 s, 30 s.
    public static let `default` = PlacerConfig(validated: .milliseconds(10), .seconds(360), .seconds(30))

    /// Creates a configuration.
    ///
    /// - Throws: ``PlacerConfigError`` unless every duration is positive.
    public init(
        retryAllDelay: Duration = .milliseconds(10),
        placerTimeout: Duration = .seconds(360),
        detachedPlacerTimeout: Duration = .seconds(30)
    ) throws(PlacerConfigError) {
        for (name, value) in [
            ("retryAllDelay", retryAllDelay), ("placerTimeout", placerTimeout),
            ("detachedPlacerTimeout", detachedPlacerTimeout),
        ] where value <= .zero {
            throw .notPositive(name: name, value: value)
        }
        self.init(validated: retryAllDelay, placerTimeout, detachedPlacerTimeout)
    }

    private init(validated retryAllDelay: Duration, _ placerTimeout: Duration, _ detachedPlacerTimeout: Duration) {
        self.retryAllDelay = retryAllDelay
        self.placerTimeout = placerTimeout
        self.detachedPlacerTimeout = detachedPlacerTimeout
    }

    /// The placer timeout that applies to a call of `type`.
    public func timeout(for type: CallType) -> Duration {
        type == .detached ? detachedPlacerTimeout : placerTimeout
    }

    public var description: String {
        "retryAllDelay=\(retryAllDelay) placerTimeout=\(placerTimeout) detachedPlacerTimeout=\(detachedPlacerTimeout)"
    }
}

/// A rejected ``PlacerConfig``.
public enum PlacerConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A duration was zero or negative.
    case notPositive(name: String, value: Duration)

    public var description: String {
        switch self {
        case .notPositive(let name, let value): "\(name) must be positive, got \(value)"
        }
    }
}
