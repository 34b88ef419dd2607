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
    // reports two unrelated locks' accesses as a race.
    private let value: UnsafeMutablePointer<Value>

    package init(_ value: Value) {
        self.value = .allocate(capacity: 1)
        self.value.initialize(to: value)
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        value.deinitialize(count: 1)
        value.deallocate()
    }

    package func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure)
        -> Result
    {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value.pointee)
    }
}
