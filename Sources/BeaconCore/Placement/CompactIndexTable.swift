/// A flat, immutable array of member indices stored in 2 bytes per entry while every index fits,
/// else 4. Maglev and the bounded-load table look keys up in it with one load.
///
/// The entries live in memory owned by a final class; the struct also keeps the raw base address
/// so a lookup is a plain load — no reference counting, no enum payload copy. (An enum of two
/// Swift arrays, the obvious design, retained and released the array on every lookup: about 9 ns
/// of atomic traffic around a 1 ns load.) Builders work on a plain `[Int32]` and compress it once.
@usableFromInline
// Unchecked: `base` points into `storage`, which is written once in `init` and never again.
struct CompactIndexTable: @unchecked Sendable {
    @usableFromInline
    final class Storage: @unchecked Sendable {
        // Written once in `init`, then only read: safe to share.
        let base: UnsafeMutableRawPointer
        init(byteCount: Int) {
            base = .allocate(byteCount: max(byteCount, 1), alignment: 4)
        }
        deinit { base.deallocate() }
    }

    @usableFromInline let storage: Storage
    @usableFromInline let base: UnsafeRawPointer
    @usableFromInline let count: Int
    @usableFromInline let isWide: Bool

    /// Compresses `owners`; every value must lie in `0..<memberLimit`.
    init(_ owners: [Int32], memberLimit: Int) {
        count = owners.count
        isWide = memberLimit > Int(UInt16.max) + 1
        storage = Storage(byteCount: count * (isWide ? 4 : 2))
        if isWide {
            let entries = storage.base.bindMemory(to: UInt32.self, capacity: count)
            for (i, owner) in owners.enumerated() { entries[i] = UInt32(truncatingIfNeeded: owner) }
        } else {
            let entries = storage.base.bindMemory(to: UInt16.self, capacity: count)
            for (i, owner) in owners.enumerated() { entries[i] = UInt16(truncatingIfNeeded: owner) }
        }
        base = UnsafeRawPointer(storage.base)
    }

    var bytes: Int { count * (isWide ? 4 : 2) }

    /// The entry at `position`, which must be in `0..<count` (callers derive it with
    /// ``fastRange(_:_:)``, which cannot exceed the count).
    @inlinable
    subscript(position: Int) -> Int {
        @inline(__always) get {
            isWide
                ? Int(base.load(fromByteOffset: position &<< 2, as: UInt32.self))
                : Int(base.load(fromByteOffset: position &<< 1, as: UInt16.self))
        }
    }

    /// The entries as a plain array, for an incremental rebuild.
    func expanded() -> [Int32] {
        (0..<count).map { Int32(truncatingIfNeeded: self[$0]) }
    }
}
