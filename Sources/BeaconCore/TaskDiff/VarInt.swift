/// LEB128 unsigned varints, as protobuf writes them: seven bits per byte, low group first, the
/// high bit set on every byte but the last.
enum VarInt {
    /// The longest encoding of a 64-bit value.
    static let maximumLength = 10

    @inline(__always)
    static func length(of value: UInt64) -> Int {
        // Bits needed (at least 1), seven per byte, rounded up.
        let bits = 64 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }

    @inline(__always)
    static func write(_ value: UInt64, to base: UnsafeMutableRawPointer, at offset: inout Int) {
        var remaining = value
        while remaining >= 0x80 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: remaining) | 0x80, toByteOffset: offset, as: UInt8.self)
            offset += 1
            remaining >>= 7
        }
        base.storeBytes(of: UInt8(truncatingIfNeeded: remaining), toByteOffset: offset, as: UInt8.self)
        offset += 1
    }

    /// Reads a varint at `offset`, or returns nil when the bytes end first or the value does not
    /// fit in 64 bits (an eleventh byte, or high bits in the tenth). Non-minimal encodings (a
    /// trailing 0x80 … 0x00) are refused too, so each value has exactly one encoding and a
    /// message has exactly one byte form.
    @inline(__always)
    static func read(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var position = offset
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if shift == 63 && byte > 1 { return nil }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                if byte == 0 && shift > 0 { return nil }
                offset = position
                return value
            }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }
}
