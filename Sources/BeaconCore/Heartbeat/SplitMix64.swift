/// A small, fast pseudo-random generator (Steele, Lea and Flood's SplitMix64) for per-thread
/// jitter: one 64-bit state word, no lock, no system call. Not for cryptography.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator that yields a fixed sequence for `seed`.
    ///
    /// - Complexity: O(1).
    public init(seed: UInt64) {
        state = seed
    }

    /// A generator seeded from the system's random source (one call).
    ///
    /// - Complexity: O(1): one read of the system's random source.
    public init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    /// The next word of the sequence.
    ///
    /// - Complexity: O(1): an addition and two multiply-xorshift rounds.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
