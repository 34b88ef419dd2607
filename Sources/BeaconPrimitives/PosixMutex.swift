#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a `pthread_mutex_t`.
///
/// Used where one lock is taken by many threads and the wheel's thread alike: ThreadSanitizer
/// understands pthread mutexes, whereas the standard library's `Mutex` synchronises inside the
/// uninstrumented runtime on Linux, so TSan would report the data it guards as racing.
package final class PosixMutex<Value>: @unchecked Sendable {
    // Safety: `value` is only touched between `pthread_mutex_lock` and `pthread_mutex_unlock`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    // Behind a pointer rather than a stored property: a stored property's dynamic exclusivity
    // check is instrumented by TSan, and for a zero-sized `Value` (a lock guarding `()`) its
    // address is the end of this object, which can be the start of the next one; TSan then
    // reports two unrelated locks' accesses as a race. It shares the mutex's allocation (one
    // malloc a lock, not two: a scheduler participant holds several), placed after the mutex,
    // and the allocation holds at least one byte for it, so even a zero-sized value has an
    // address inside its own allocation.
    private let value: UnsafeMutablePointer<Value>

    /// Where the value starts in the allocation: the first place past the mutex it may be aligned at.
    private static var valueOffset: Int {
        let alignment = MemoryLayout<Value>.alignment
        return (MemoryLayout<pthread_mutex_t>.stride + alignment - 1) / alignment * alignment
    }

    package init(_ value: Value) {
        let storage = UnsafeMutableRawPointer.allocate(
            byteCount: Self.valueOffset + max(MemoryLayout<Value>.size, 1),
            alignment: max(MemoryLayout<pthread_mutex_t>.alignment, MemoryLayout<Value>.alignment))
        mutex = storage.bindMemory(to: pthread_mutex_t.self, capacity: 1)
        self.value = (storage + Self.valueOffset).bindMemory(to: Value.self, capacity: 1)
        self.value.initialize(to: value)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        value.deinitialize(count: 1)
        UnsafeMutableRawPointer(mutex).deallocate()
    }

    package func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure)
        -> Result
    {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value.pointee)
    }
}
