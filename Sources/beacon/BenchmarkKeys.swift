/// A deterministic set of fixed-length random keys stored back to back in one buffer, so reading
/// a key costs no allocation and every run (and every placer) sees the same keys.
struct BenchmarkKeys {
    let count: Int
    let length: Int
    private let bytes: [UInt8]

    init(count: Int, length: Int = 21, seed: UInt64 = 0x5EED) {
        self.count = count
        self.length = length
        var state = seed
        var bytes = [UInt8](repeating: 0, count: count * length)
        for i in bytes.indices {
            // SplitMix64, one byte per step: simple and plenty random for keys.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            bytes[i] = UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
        self.bytes = bytes
    }

    /// Calls `body` with each key in `range`, in order.
    ///
    /// The range is checked once, and each key is then a pointer and a length, as in Go's
    /// benchmark loops over a slice of strings: slicing the buffer per key would add its own bounds
    /// and overflow checks to every figure measured through it.
    @inline(__always)
    func forEach(in range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "keys \(range) of \(count)")
        try bytes.withUnsafeBytes { all in
            guard let base = all.baseAddress else { return }
            for i in range {
                try body(UnsafeRawBufferPointer(start: base + i &* length, count: length))
            }
        }
    }
}
