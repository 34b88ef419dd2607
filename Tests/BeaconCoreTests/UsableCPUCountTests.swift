#if os(Linux)
import BeaconSystemShims
import Glibc
import Testing

/// `beacon_usable_cpu_count` follows the calling thread's affinity mask, which is what lets
/// `beacon serve` and `beacon loadgen` size their event loops to `taskset`.
struct UsableCPUCountTests {
    /// glibc's `sched_getaffinity` and `sched_setaffinity` (same signature), which Swift's Glibc
    /// module leaves out (they need `_GNU_SOURCE`), found at run time.
    typealias AffinityCall = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> CInt

    static func affinityCall(_ name: String) throws -> AffinityCall {
        let symbol = try #require(dlsym(dlopen(nil, RTLD_NOW), name), "no \(name) in this process")
        return unsafeBitCast(symbol, to: AffinityCall.self)
    }

    /// The mask's CPUs, counted bit by bit (`CPU_COUNT` is a macro).
    static func count(_ mask: cpu_set_t) -> Int {
        withUnsafeBytes(of: mask) { bytes in bytes.reduce(0) { $0 + $1.nonzeroBitCount } }
    }

    /// Pins the test's own thread for the one synchronous call, then puts its mask back: there is
    /// no suspension point in between, so no other test runs on the thread meanwhile.
    @Test func countsTheCPUsOfTheCallingThreadsMask() throws {
        let (get, set) = (try Self.affinityCall("sched_getaffinity"), try Self.affinityCall("sched_setaffinity"))
        let size = MemoryLayout<cpu_set_t>.size
        var original = cpu_set_t()
        try #require(get(0, size, &original) == 0)
        #expect(Int(beacon_usable_cpu_count()) == Self.count(original))

        // The first CPU of the mask, alone.
        let first = try #require(
            withUnsafeBytes(of: original) { bytes in
                bytes.indices.first { bytes[$0] != 0 }.map { $0 * 8 + bytes[$0].trailingZeroBitCount }
            })
        var pinned = cpu_set_t()
        withUnsafeMutableBytes(of: &pinned) { $0[first / 8] = UInt8(1) << (first % 8) }
        try #require(set(0, size, &pinned) == 0)
        let counted = beacon_usable_cpu_count()
        let restored = set(0, size, &original)
        #expect(counted == 1)
        #expect(restored == 0)
    }
}
#endif
