import BeaconPrimitives
public import Synchronization

/// An atomically replaceable reference to an immutable object, readable without locks, with
/// safe reclamation of replaced objects.
///
/// Readers either pin (``withPinned(_:)``: the object stays alive for the closure) or keep
/// their own strong reference and only check it is still current (``isCurrent(_:)``, one
/// acquire load). Writers serialize among themselves, swap the pointer and retire the old object;
/// a retired object is released once no reader is inside a pin.
///
/// Why the orderings suffice: a pin increments `pins` and then loads `current`; a publish
/// exchanges `current` and then loads `pins`. All four are sequentially consistent, so in their
/// single total order either the reader's increment comes before the writer's load of `pins` —
/// then the writer sees a pin and keeps the old object — or after it, and then the reader's load
/// of `current` comes after the exchange and sees the new object. Either way no reader can hold
/// a pointer to an object the writer frees. The decrement is a release (part of seq-cst), so
/// everything the reader did with the object, including retaining it, happens before the writer
/// sees zero and releases its reference.
///
/// A noncopyable value, stored in place in its owner: a reader reaches the pin counter and the
/// pointer through the owner it already holds, so pinning takes no reference count on a
/// separate cell (a retain and a release, two more locked operations per read).
@usableFromInline
package struct AtomicSnapshot<Value: AnyObject & Sendable>: ~Copyable, Sendable {
    /// The address of the current object, retained +1 on behalf of this cell. Stored as an integer
    /// because raw pointers are not `Sendable`.
    @usableFromInline let current: Atomic<UInt>
    /// Readers inside a pin, in the low ``pinBits`` bits; above them, the owner's carried count
    /// (``withPinned(addingToCarried:_:)``), signed.
    @usableFromInline let pins = Atomic<Int>(0)
    /// Room for 2²⁰ − 1 readers pinned at once, far more threads than a process runs, which leaves
    /// the carried count 44 bits: ±8.8 · 10¹², so that even a caller leaking a million leases a
    /// second would take months to wrap it.
    @usableFromInline static var pinBits: Int { 20 }
    /// Replaced objects not yet released; the mutex also serializes writers. Readers never take
    /// it, so it costs only publishes.
    private let retired = PosixMutex<[UInt]>([])

    @usableFromInline
    package init(_ value: Value) {
        current = Atomic(Self.address(of: Unmanaged.passRetained(value)))
    }

    deinit {
        Self.unmanaged(current.load(ordering: .relaxed)).release()
        for address in retired.withLock({ $0 }) {
            Self.unmanaged(address).release()
        }
    }

    /// Whether `value` is still the current object. One acquire load; the caller must hold its
    /// own strong reference to `value` (so its address cannot be reused by a newer object).
    @inlinable @inline(__always)
    borrowing func isCurrent(_ value: Value) -> Bool {
        current.load(ordering: .acquiring) == Self.address(of: Unmanaged.passUnretained(value))
    }

    /// Runs `body` with the current object, which stays alive until `body` returns. Lock-free:
    /// two atomic increments and one load, no retain of the object.
    @inlinable
    package borrowing func withPinned<Output, Failure: Error>(
        _ body: (Value) throws(Failure) -> Output
    ) throws(Failure) -> Output {
        try withPinned(addingToCarried: 0) { (value, _) throws(Failure) -> Output in try body(value) }
    }

    /// ``withPinned(_:)`` that also adds `delta` to a count the owner carries in the pin word, in
    /// the same locked add, and hands `body` the count after it. An owner that must count
    /// something on every read (the load-aware placers count requests in flight) saves a locked
    /// operation per read this way. The count is signed 44-bit: it must stay within ±(2⁴³ − 1).
    @inlinable
    package borrowing func withPinned<Output, Failure: Error>(
        addingToCarried delta: Int,
        _ body: (Value, _ carried: Int) throws(Failure) -> Output
    ) throws(Failure) -> Output {
        let word = pins.wrappingAdd(1 &+ delta &<< Self.pinBits, ordering: .sequentiallyConsistent).newValue
        defer { pins.wrappingSubtract(1, ordering: .sequentiallyConsistent) }
        let address = current.load(ordering: .sequentiallyConsistent)
        // `_withUnsafeGuaranteedRef` lends the object without a retain, so concurrent readers do not
        // contend on its reference count; it only rethrows untyped errors, hence the `Result`.
        var outcome: Result<Output, Failure>?
        Self.unmanaged(address)._withUnsafeGuaranteedRef { value in
            outcome = Result { () throws(Failure) -> Output in try body(value, word &>> Self.pinBits) }
        }
        return try outcome!.get()
    }

    /// Adds `delta` to the carried count (relaxed: the count publishes no other memory) and
    /// returns the count after it. Adding a multiple of 2²⁰ leaves the pin count in the low bits
    /// untouched.
    @inlinable @inline(__always)
    @discardableResult
    package borrowing func addToCarried(_ delta: Int) -> Int {
        pins.wrappingAdd(delta &<< Self.pinBits, ordering: .relaxed).newValue &>> Self.pinBits
    }

    /// The carried count now (relaxed).
    @inlinable @inline(__always)
    package borrowing func carried() -> Int {
        pins.load(ordering: .relaxed) &>> Self.pinBits
    }

    /// A strong reference to the current object.
    @usableFromInline
    package borrowing func load() -> Value {
        withPinned { $0 }
    }

    /// Replaces the current object with `value`, then releases every replaced object if no reader
    /// is pinned; otherwise they wait for a later publish (or the cell's deinit).
    package borrowing func publish(_ value: Value) {
        let new = Self.address(of: Unmanaged.passRetained(value))
        retired.withLock { retired in
            retired.append(current.exchange(new, ordering: .sequentiallyConsistent))
            if pins.load(ordering: .sequentiallyConsistent) & ((1 << Self.pinBits) - 1) == 0 {
                for address in retired {
                    Self.unmanaged(address).release()
                }
                retired.removeAll(keepingCapacity: true)
            }
        }
    }

    @inlinable @inline(__always)
    static func address(of object: Unmanaged<Value>) -> UInt {
        UInt(bitPattern: object.toOpaque())
    }

    @inlinable @inline(__always)
    static func unmanaged(_ address: UInt) -> Unmanaged<Value> {
        Unmanaged.fromOpaque(UnsafeRawPointer(bitPattern: address).unsafelyUnwrapped)
    }
}
