import MallocInterposerSwift

/// Counts `malloc` calls made while a closure runs, through ordo-one's malloc interposer (linked
/// into this executable, so its `malloc` takes precedence over the C library's).
enum AllocationCounter {
    static func count(_ body: () throws -> Void) rethrows -> Int {
        MallocInterposerSwift.reset()
        MallocInterposerSwift.hook()
        defer { MallocInterposerSwift.unhook() }
        try body()
        return MallocInterposerSwift.getStatistics().mallocCount
    }

    /// The same for asynchronous work.
    static func asyncCount(_ body: () async throws -> Void) async rethrows -> Int {
        MallocInterposerSwift.reset()
        MallocInterposerSwift.hook()
        defer { MallocInterposerSwift.unhook() }
        try await body()
        return MallocInterposerSwift.getStatistics().mallocCount
    }

    /// Whether the interposer sees this process's allocations at all.
    static var isActive: Bool {
        count { blackHole(Array(repeating: UInt8(1), count: 100 + Int(blackHoleSink % 3))) } > 0
    }
}

nonisolated(unsafe) var blackHoleSink = 0

/// Consumes a value so the optimizer cannot drop the work that produced it: the function is
/// never optimized or inlined (so its parameter cannot be found dead) and it reads the value's
/// bytes, not merely its address.
@inline(never) @_optimize(none)
func blackHole<T>(_ value: T) {
    withUnsafeBytes(of: value) { bytes in
        for byte in bytes { blackHoleSink &+= Int(byte) }
    }
}

/// Heap bytes still allocated at the end of a stretch of work, through the malloc interposer:
/// bytes requested by `malloc` minus bytes given back to `free` while it was hooked.
enum HeapMeter {
    static func start() {
        MallocInterposerSwift.reset()
        MallocInterposerSwift.hook()
    }

    /// Live bytes since ``start()``, or nil when the interposer is not active.
    static func stop() -> Int? {
        let statistics = MallocInterposerSwift.getStatistics()
        MallocInterposerSwift.unhook()
        guard statistics.mallocCount > 0 else { return nil }
        return statistics.mallocBytesCount - statistics.freeBytesCount
    }
}
