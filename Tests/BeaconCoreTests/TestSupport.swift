@testable import BeaconCore

/// Members named `m0`, `m1`, … with weight 1.
func members(_ count: Int, prefix: String = "m") -> [PlacementMember] {
    (0..<count).map { PlacementMember("\(prefix)\($0)") }
}

/// A deterministic pseudo-random key stream (SplitMix64), so tests need no global RNG state.
struct KeyStream: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func hashes(_ count: Int, seed: UInt64 = 1) -> [UInt64] {
    var stream = KeyStream(seed: seed)
    return (0..<count).map { _ in stream.next() }
}

/// The owner's name for every hash.
func owners(_ placer: some Placer, _ hashes: [UInt64]) throws -> [String] {
    try hashes.map { try placer.members[placer.memberIndex(forHash: $0)].name }
}

/// Fraction of hashes whose owner changed between two placements.
func movedFraction(_ before: [String], _ after: [String]) -> Double {
    Double(zip(before, after).filter { $0 != $1 }.count) / Double(before.count)
}
