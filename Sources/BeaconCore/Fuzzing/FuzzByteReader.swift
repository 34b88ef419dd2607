/// Reads a fuzzer's input as a stream of bytes, yielding zeros once it runs out so a decoder
/// never has to handle a short read.
///
/// Every fuzz harness in the package decodes its input with it, so one input format rule holds
/// everywhere: an operation is a byte, its arguments follow, and a short input ends in zeros.
package struct FuzzByteReader {
    package let input: UnsafeRawBufferPointer
    package private(set) var offset = 0

    package init(_ input: UnsafeRawBufferPointer) { self.input = input }

    /// Whether every byte has been read.
    package var isAtEnd: Bool { offset >= input.count }

    /// The next byte, or nil at the end of the input.
    package mutating func next() -> UInt8? {
        guard offset < input.count else { return nil }
        defer { offset += 1 }
        return input[offset]
    }

    /// The next byte as an `Int`, 0 past the end.
    package mutating func byte() -> Int { Int(next() ?? 0) }

    /// The next eight bytes, big-endian, zero-padded past the end.
    package mutating func word() -> UInt64 {
        var value: UInt64 = 0
        for _ in 0..<8 { value = value << 8 | UInt64(next() ?? 0) }
        return value
    }

    /// A length byte (at most `limit`) and then that many bytes, fewer where the input ends.
    package mutating func lengthPrefixedBytes(limit: Int = 255) -> [UInt8] {
        let count = min(byte(), limit)
        let end = min(offset + count, input.count)
        defer { offset = max(offset, end) }
        return Array(input[min(offset, end)..<end])
    }

    /// Every byte not read yet.
    package mutating func rest() -> [UInt8] {
        defer { offset = input.count }
        return Array(input[min(offset, input.count)...])
    }
}
