public import Synchronization

/// A fixed array of atomic in-flight counters, one per member slot, at stable addresses.
///
/// `Atomic` cannot live in a Swift array (it is not copyable), so the counters live in memory this
/// class allocates once and frees in `deinit`. Every access goes through `Atomic`, which is why
/// the unchecked `Sendable` is sound.
@usableFromInline
final class InFlightCounters: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
        for i in 0..<capacity {
            (base + i).initialize(to: Atomic(0))
        }
    }

    deinit {
        base.deinitialize(count: capacity)
        base.deallocate()
    }

    @inlinable @inline(__always)
    subscript(slot: Int) -> UnsafeMutablePointer<Atomic<Int>> { base + slot }
}
