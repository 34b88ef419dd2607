/// The XXH64 hash (Yann Collet, 2012–2020): a fast, seeded, stable 64-bit non-cryptographic hash.
///
/// Beacon hashes placement keys and member names with XXH64 rather than `Hasher`, because
/// `Hasher` is seeded per process: two processes (or two runs) would place the same key on
/// different members. XXH64 output depends only on the bytes and the seed, is the same on every
/// platform, and is what Go's `cespare/xxhash` computes, so results can be compared one to one.
///
/// Inputs are read in place; nothing is copied or allocated.
public enum XXHash64 {
    // Computed, not stored: a stored `static let` is read through its lazy-initialisation
    // accessor wherever the inlined hash lands in another module; a computed constant folds away.
    @inlinable static var prime1: UInt64 { 0x9E37_79B1_85EB_CA87 }
    @inlinable static var prime2: UInt64 { 0xC2B2_AE3D_27D4_EB4F }
    @inlinable static var prime3: UInt64 { 0x1656_67B1_9E37_79F9 }
    @inlinable static var prime4: UInt64 { 0x85EB_CA77_C2B2_AE63 }
    @inlinable static var prime5: UInt64 { 0x27D4_EB2F_1656_67C5 }

    /// Hashes `bytes` with `seed`.
    ///
    /// Keys shorter than 32 bytes (placement keys, node and member names) take a short path that
    /// inlines into the caller; longer ones call the four-lane loop.
    ///
    /// - Complexity: O(*n*) in the number of bytes.
    @inlinable @inline(__always)
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        guard bytes.count >= 32 else {
            return avalanche(
                tail(bytes, from: 0, accumulator: seed &+ prime5 &+ UInt64(truncatingIfNeeded: bytes.count)))
        }
        return hashLong(bytes, seed: seed)
    }

    /// The four-lane loop over inputs of 32 bytes or more, then the tail.
    @usableFromInline
    static func hashLong(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let count = bytes.count
        var offset = 0
        var v1 = seed &+ prime1 &+ prime2
        var v2 = seed &+ prime2
        var v3 = seed
        var v4 = seed &- prime1
        while offset + 32 <= count {
            v1 = round(v1, lane(bytes, offset))
            v2 = round(v2, lane(bytes, offset + 8))
            v3 = round(v3, lane(bytes, offset + 16))
            v4 = round(v4, lane(bytes, offset + 24))
            offset += 32
        }
        var h = v1.rotatedLeft(1) &+ v2.rotatedLeft(7) &+ v3.rotatedLeft(12) &+ v4.rotatedLeft(18)
        h = merge(h, v1)
        h = merge(h, v2)
        h = merge(h, v3)
        h = merge(h, v4)
        return avalanche(tail(bytes, from: offset, accumulator: h &+ UInt64(truncatingIfNeeded: count)))
    }

    /// Folds the bytes from `offset` to the end (fewer than 32) into `accumulator`.
    @inlinable @inline(__always)
    static func tail(_ bytes: UnsafeRawBufferPointer, from offset: Int, accumulator: UInt64) -> UInt64 {
        let count = bytes.count
        var offset = offset
        var h = accumulator
        while offset + 8 <= count {
            h ^= round(0, lane(bytes, offset))
            h = h.rotatedLeft(27) &* prime1 &+ prime4
            offset += 8
        }
        if offset + 4 <= count {
            let word = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            h ^= UInt64(word) &* prime1
            h = h.rotatedLeft(23) &* prime2 &+ prime3
            offset += 4
        }
        while offset < count {
            h ^= UInt64(bytes[offset]) &* prime5
            h = h.rotatedLeft(11) &* prime1
            offset += 1
        }
        return h
    }

    /// Hashes the UTF-8 bytes of `string`, read in place.
    ///
    /// Native Swift strings (every string on Linux) are stored as contiguous UTF-8, so this reads
    /// them without a copy; small strings live in the string value itself and are read from the stack.
    @inlinable
    public static func hash(_ string: String, seed: UInt64 = 0) -> UInt64 {
        withUTF8Bytes(of: string) { hash($0, seed: seed) }
    }

    /// Hashes the eight little-endian bytes of `value`, so an integer key hashes exactly like the
    /// byte string that encodes it.
    @inlinable
    public static func hash(_ value: UInt64, seed: UInt64 = 0) -> UInt64 {
        var h = seed &+ prime5 &+ 8
        h ^= round(0, value)
        h = h.rotatedLeft(27) &* prime1 &+ prime4
        return avalanche(h)
    }

    @inlinable @inline(__always)
    static func lane(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inlinable @inline(__always)
    static func round(_ accumulator: UInt64, _ input: UInt64) -> UInt64 {
        (accumulator &+ input &* prime2).rotatedLeft(31) &* prime1
    }

    @inlinable @inline(__always)
    static func merge(_ accumulator: UInt64, _ value: UInt64) -> UInt64 {
        (accumulator ^ round(0, value)) &* prime1 &+ prime4
    }

    @inlinable @inline(__always)
    static func avalanche(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h &*= prime2
        h ^= h >> 29
        h &*= prime3
        h ^= h >> 32
        return h
    }
}

extension UInt64 {
    @inlinable @inline(__always)
    func rotatedLeft(_ count: UInt64) -> UInt64 {
        (self << count) | (self >> (64 - count))
    }
}
