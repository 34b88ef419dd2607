extension Array where Element == UInt8 {
    /// Appends raw bytes with one memcpy. `append(contentsOf:)` given an
    /// `UnsafeRawBufferPointer` iterates it byte by byte, several times slower for payloads.
    @inline(__always)
    mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
    }
}
