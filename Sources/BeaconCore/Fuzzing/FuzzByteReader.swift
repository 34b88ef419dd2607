/// Reads a fuzzer's input as a stream of bytes, yielding zeros once it runs out so a decoder
/// never has to handle a short read.
struct FuzzByteReader {
    let input: UnsafeRawBufferPointer
    var offset = 0

    init(_ input: UnsafeRawBufferPointer) { self.input = input }

    /// The next byte, or nil at the end of the input.
    mutating func next() -> UInt8? {
        guard offset < input.count else { return nil }
        defer { offset += 1 }
        return input[offset]
    }

    /// The next byte as an `Int`, 0 past the end.
    mutating func byte() -> Int { Int(next() ?? 0) }

    /// The next eight bytes, big-endian, zero-padded past the end.
    mutating func word() -> UInt64 {
        var value: UInt64 = 0
        for _ in 0..<8 { value = value << 8 | UInt64(next() ?? 0) }
        return value
    }
}
