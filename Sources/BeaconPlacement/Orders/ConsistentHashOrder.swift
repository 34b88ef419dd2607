public import BeaconCore

/// Fn's consistent-hash placer: the function id, hashed with SipHash-2-4 under Fn's key, picks a
/// start runner by jump hash; a NACK moves to the next runner in list order, wrapping.
///
/// The start is Lamping and Veach's jump hash (the core's `JumpHashPlacer/bucket(for:buckets:)`),
/// uniform over the runners. ``Mode/fnCompatible`` reproduces Fn's own jump instead, which has an
/// integer-division precedence bug: it never starts at runner 1, always starts at runner 0 with
/// two runners, and is heavily skewed. Use it only while Go and Swift load balancers must send a
/// function to the same runner.
public struct ConsistentHashOrder: PlacementOrder {
    /// Which jump hash picks the start runner.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// The paper's jump hash: every runner equally likely to be a function's start.
        case uniform
        /// Fn's jump hash, bug for bug, with its division by zero guarded.
        case fnCompatible
    }

    /// Which jump hash picks the start runner.
    public let mode: Mode

    /// Creates the order.
    public init(mode: Mode = .uniform) {
        self.mode = mode
    }

    /// SipHash-2-4 of the function id's UTF-8 bytes under Fn's key.
    @inlinable
    public func key<Call: RunnerCall>(for call: Call) -> UInt64 {
        SipHash24.fnPlacerKey.hash(call.model.functionID)
    }

    @inlinable
    public func makePass(over runners: [any Runner], key: UInt64) -> LinearPass {
        LinearPass(count: runners.count, start: startIndex(forKey: key, runnerCount: runners.count))
    }

    /// The runner a key's passes start at, among `runnerCount` runners (0 when there are none).
    @inlinable
    public func startIndex(forKey key: UInt64, runnerCount: Int) -> Int {
        guard runnerCount > 0 else { return 0 }
        switch mode {
        case .uniform: return JumpHashPlacer.bucket(for: key, buckets: runnerCount)
        case .fnCompatible: return Self.fnJumpHash(key, buckets: runnerCount)
        }
    }

    /// Fn's `jumpConsistentHash`: the paper's loop with `(2³¹ / (key >> 33)) + 1` computed in
    /// integers where the paper has `2³¹ / ((key >> 33) + 1)` in floating point. Where Fn divides by
    /// zero (and panics) this divides by one instead, which ends the loop.
    @inlinable
    public static func fnJumpHash(_ key: UInt64, buckets: Int) -> Int {
        var state = key
        var bucket: Int64 = -1
        var next: Int64 = 0
        let limit = Int64(buckets)
        while next < limit {
            bucket = next
            state = state &* 2_862_933_555_777_941_757 &+ 1
            let divisor = max(state >> 33, 1)
            next = (bucket + 1) &* Int64((UInt64(1) << 31) / divisor + 1)
        }
        return Int(bucket)
    }
}
