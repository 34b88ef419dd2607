public import Synchronization

/// Fn's naive placer: each pass walks the whole list once, starting one runner further than the
/// previous pass of any call, so first attempts rotate over the runners.
///
/// The rotation is one atomic counter per placer (relaxed: only its own value matters). Fn now
/// derives the start from the clock because its shared counter once rotated over lists of
/// different runner groups; with a counter per placer and a start taken modulo each list's own
/// length, every list still sees its starts rotate.
public final class RoundRobinOrder: PlacementOrder {
    @usableFromInline let turn = Atomic<UInt>(0)

    /// Creates the order with its rotation at the first runner.
    public init() {}

    @inlinable
    public func key<Call: RunnerCall>(for call: Call) -> UInt64 { 0 }

    @inlinable
    public func makePass(over runners: [any Runner], key: UInt64) -> LinearPass {
        let count = runners.count
        guard count > 0 else { return LinearPass(count: 0, start: 0) }
        let start = turn.wrappingAdd(1, ordering: .relaxed).oldValue % UInt(count)
        return LinearPass(count: count, start: Int(start))
    }
}
