/// How assignment sets are fingerprinted.
///
/// Every entry contributes a 64-bit value mixed from its key, version and the XXH64 of its
/// payload; a set's digest is the wrapping sum of its entries' contributions. A sum does not
/// depend on order and changes in O(1) per upsert or removal, so a sender and a receiver can keep
/// it current without rescanning, and every wire message carries the digest its receiver must
/// reach. Two different sets share a digest only by a 64-bit collision.
enum AssignmentDigest {
    static let payloadSeed: UInt64 = 0x4245_4143_4F4E_5444  // "BEACONTD"

    @inline(__always)
    static func payload(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        XXHash64.hash(bytes, seed: payloadSeed)
    }

    /// One entry's share of its set's digest.
    @inline(__always)
    static func contribution(key: UInt64, version: UInt64, payloadDigest: UInt64) -> UInt64 {
        var state = SplitMix64(seed: key ^ 0x7C15_9E3A_A5D2_6B01)
        let first = state.next()
        state = SplitMix64(seed: first ^ version)
        let second = state.next()
        state = SplitMix64(seed: second ^ payloadDigest)
        return state.next()
    }
}
