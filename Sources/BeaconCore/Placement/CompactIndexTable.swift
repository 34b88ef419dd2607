/// A flat, immutable array of member indices stored in 2 bytes per entry while every index fits,
/// else 4. Maglev and the bounded-load table look keys up in it with one load.
///
/// Builders work on a plain `[Int32]` and compress it once at the end.
@usableFromInline
struct CompactIndexTable: Sendable {
    @usableFromInline
    enum Entries: Sendable {
        case narrow([UInt16])
        case wide([UInt32])
    }

    @usableFromInline let entries: Entries

    /// Compresses `owners`; every value must lie in `0..<memberLimit`.
    init(_ owners: [Int32], memberLimit: Int) {
        if memberLimit <= Int(UInt16.max) + 1 {
            entries = .narrow(owners.map { UInt16(truncatingIfNeeded: $0) })
        } else {
            entries = .wide(owners.map { UInt32(truncatingIfNeeded: $0) })
        }
    }

    @usableFromInline var count: Int {
        switch entries {
        case .narrow(let a): a.count
        case .wide(let a): a.count
        }
    }

    var bytes: Int {
        switch entries {
        case .narrow(let a): a.count * 2
        case .wide(let a): a.count * 4
        }
    }

    @inlinable
    subscript(position: Int) -> Int {
        @inline(__always) get {
            switch entries {
            case .narrow(let a): Int(a[position])
            case .wide(let a): Int(a[position])
            }
        }
    }

    /// The entries as a plain array, for an incremental rebuild.
    func expanded() -> [Int32] {
        switch entries {
        case .narrow(let a): a.map { Int32($0) }
        case .wide(let a): a.map { Int32(bitPattern: $0) }
        }
    }
}
