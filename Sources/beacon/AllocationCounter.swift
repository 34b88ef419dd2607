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

    /// Whether the interposer sees this process's allocations at all.
    static var isActive: Bool {
        count { blackHole(Array(repeating: UInt8(1), count: 100 + Int(blackHoleSink % 3))) } > 0
    }
}

nonisolated(unsafe) var blackHoleSink = 0

/// Keeps a value alive so the optimizer cannot drop the work that produced it.
@inline(never)
func blackHole<T>(_ value: T) {
    withUnsafePointer(to: value) { blackHoleSink &+= Int(bitPattern: UInt(bitPattern: $0)) & 1 }
}
