/// SipHash-2-4 (Aumasson and Bernstein, 2012) with a caller-given 128-bit key.
///
/// Slower than ``XXHash64`` but keyed: a caller who keeps the key secret gets placements an
/// attacker cannot steer. Fn's consistent-hash placer hashes function ids with
/// `k0 = 0, k1 = 0x4c617279426f6174`; ``fnPlacerKey`` holds that key so Beacon reproduces Fn's
/// hash values exactly.
public struct SipHash24: Sendable, Hashable {
    /// The first 64 bits of the key (bytes 0–7, little-endian).
    public var k0: UInt64
    /// The second 64 bits of the key (bytes 8–15, little-endian).
    public var k1: UInt64

    /// The key Fn's consistent-hash placer uses.
    public static let fnPlacerKey = SipHash24(k0: 0, k1: 0x4C61_7279_426F_6174)

    /// Creates a hasher with the key `k0 ‖ k1`.
    public init(k0: UInt64, k1: UInt64) {
        self.k0 = k0
        self.k1 = k1
    }

    /// Hashes `bytes`, read in place.
    ///
    /// - Complexity: O(*n*) in the number of bytes.
    @inlinable
    public func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var state = State(k0: k0, k1: k1)
        let count = bytes.count
        var offset = 0
        while offset + 8 <= count {
            state.compress(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset += 8
        }
        var last = UInt64(truncatingIfNeeded: count) << 56
        var shift: UInt64 = 0
        while offset < count {
            last |= UInt64(bytes[offset]) << shift
            shift += 8
            offset += 1
        }
        state.compress(last)
        return state.finalize()
    }

    /// Hashes the UTF-8 bytes of `string`, read in place.
    @inlinable
    public func hash(_ string: String) -> UInt64 {
        withUTF8Bytes(of: string) { hash($0) }
    }

    /// Hashes the eight little-endian bytes of `value`.
    @inlinable
    public func hash(_ value: UInt64) -> UInt64 {
        var state = State(k0: k0, k1: k1)
        state.compress(value)
        state.compress(8 << 56)
        return state.finalize()
    }

    @usableFromInline
    struct State {
        @usableFromInline var v0: UInt64
        @usableFromInline var v1: UInt64
        @usableFromInline var v2: UInt64
        @usableFromInline var v3: UInt64

        @inlinable
        init(k0: UInt64, k1: UInt64) {
            v0 = k0 ^ 0x736F_6D65_7073_6575
            v1 = k1 ^ 0x646F_7261_6E64_6F6D
            v2 = k0 ^ 0x6C79_6765_6E65_7261
            v3 = k1 ^ 0x7465_6462_7974_6573
        }

        @inlinable @inline(__always)
        mutating func round() {
            v0 &+= v1
            v1 = v1.rotatedLeft(13)
            v1 ^= v0
            v0 = v0.rotatedLeft(32)
            v2 &+= v3
            v3 = v3.rotatedLeft(16)
            v3 ^= v2
            v0 &+= v3
            v3 = v3.rotatedLeft(21)
            v3 ^= v0
            v2 &+= v1
            v1 = v1.rotatedLeft(17)
            v1 ^= v2
            v2 = v2.rotatedLeft(32)
        }

        @inlinable @inline(__always)
        mutating func compress(_ word: UInt64) {
            v3 ^= word
            round()
            round()
            v0 ^= word
        }

        @inlinable @inline(__always)
        mutating func finalize() -> UInt64 {
            v2 ^= 0xFF
            round()
            round()
            round()
            round()
            return v0 ^ v1 ^ v2 ^ v3
        }
    }
}
