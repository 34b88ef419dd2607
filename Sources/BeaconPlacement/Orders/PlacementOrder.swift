/// The order in which a placer tries runners: what distinguishes one placer from another. The
/// retrying, deadlines and metrics around it are ``PlacementAttempt``'s and the same for all.
///
/// An order is shared by every placement of a placer and must be thread-safe; a ``Pass`` belongs
/// to one placement and one pass over one fetched runner list.
public protocol PlacementOrder: Sendable {
    /// One pass over one runner list.
    associatedtype Pass: PlacementPass

    /// The call's placement key, computed once per placement (consistent-hash orders hash the
    /// function id; round robin ignores it).
    func key<Call: RunnerCall>(for call: Call) -> UInt64

    /// Starts a pass over `runners` for a call with `key`.
    func makePass(over runners: [any Runner], key: UInt64) -> Pass
}

/// One pass over a runner list: hands out runner indices, each at most once, and hears how
/// each attempt ended.
public protocol PlacementPass {
    /// The index of the next runner to try, or nil when the pass is over.
    mutating func nextRunner() -> Int?
    /// The runner last returned by ``nextRunner()`` has answered: `placed` when it took the call
    /// (and, since a runner answers when the call ends, has finished it), false for a NACK.
    mutating func attemptEnded(placed: Bool)
}

/// The runners in list order starting at `start`, wrapping: the pass of round robin and of
/// Fn's consistent hash.
public struct LinearPass: PlacementPass {
    @usableFromInline let count: Int
    @usableFromInline var index: Int
    @usableFromInline var remaining: Int

    /// A pass over `count` runners starting at `start`, taken modulo `count` into `0..<count`
    /// (a negative start counts back from the end, as a hash read as a signed integer may be).
    @inlinable
    public init(count: Int, start: Int) {
        self.count = count
        let remainder = count > 0 ? start % count : 0
        self.index = remainder < 0 ? remainder + count : remainder
        self.remaining = count
    }

    @inlinable
    public mutating func nextRunner() -> Int? {
        guard remaining > 0 else { return nil }
        remaining -= 1
        let current = index
        index = index + 1 == count ? 0 : index + 1
        return current
    }

    @inlinable
    public mutating func attemptEnded(placed: Bool) {}
}
