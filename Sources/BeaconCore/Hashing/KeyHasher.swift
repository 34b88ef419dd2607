/// How a placer turns a key (bytes, a string, or an integer) into the 64-bit hash it places.
///
/// Every form of a key hashes its bytes: a `String` hashes its UTF-8 bytes and an integer its
/// eight little-endian bytes, so `"abc"` and `[0x61, 0x62, 0x63]` land on the same member.
/// The output depends only on the key and the hasher's parameters, never on the process.
public struct KeyHasher: Sendable, Hashable {
    @usableFromInline
    enum Algorithm: Sendable, Hashable {
        case xxHash64(seed: UInt64)
        case sipHash24(SipHash24)
    }

    @usableFromInline let algorithm: Algorithm

    /// XXH64 with the given seed: the fast default.
    public static func xxHash64(seed: UInt64 = 0) -> KeyHasher {
        KeyHasher(algorithm: .xxHash64(seed: seed))
    }

    /// SipHash-2-4 with the given key: use it when keys come from untrusted clients.
    public static func sipHash24(_ key: SipHash24) -> KeyHasher {
        KeyHasher(algorithm: .sipHash24(key))
    }

    /// XXH64 with seed 0.
    public static let `default` = KeyHasher.xxHash64()

    /// Hashes raw bytes.
    @inlinable
    public func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        switch algorithm {
        case .xxHash64(let seed): XXHash64.hash(bytes, seed: seed)
        case .sipHash24(let sip): sip.hash(bytes)
        }
    }

    /// Hashes the UTF-8 bytes of a string, read in place.
    @inlinable
    public func hash(_ string: String) -> UInt64 {
        switch algorithm {
        case .xxHash64(let seed): XXHash64.hash(string, seed: seed)
        case .sipHash24(let sip): sip.hash(string)
        }
    }

    /// Hashes the eight little-endian bytes of an integer.
    @inlinable
    public func hash(_ value: UInt64) -> UInt64 {
        switch algorithm {
        case .xxHash64(let seed): XXHash64.hash(value, seed: seed)
        case .sipHash24(let sip): sip.hash(value)
        }
    }
}

/// Calls `body` with `string`'s UTF-8 bytes. Native strings (every string on Linux) are read in
/// place, small ones from the string value itself; only a non-contiguous (bridged) string is copied.
@inlinable @inline(__always)
func withUTF8Bytes<Result>(of string: String, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
    if let result = string.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
        return result
    }
    var copy = string
    return copy.withUTF8 { body(UnsafeRawBufferPointer($0)) }
}
