#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The node arena's memory: an anonymous mapping, so untouched capacity costs no RAM and freeing
/// returns it to the system, aligned to 2 MiB and, when it spans at least one such page, marked
/// for transparent huge pages where the kernel offers them. A beat touches one record at random;
/// with 4 KiB pages, a million nodes span 4 096 pages, more than the TLB holds, and every beat
/// would pay a page walk. A smaller arena fits the TLB anyway, and a huge page would make its
/// first touch zero 2 MiB (a dispatcher made per test or per fuzz input paid that every time).
package final class ArenaMemory {
    static let hugePage = 2 << 20

    package let base: UnsafeMutableRawPointer
    private let mapping: UnsafeMutableRawPointer
    private let mappedBytes: Int

    /// Zero-filled memory for `byteCount` bytes, or nil if the system refuses the mapping.
    package init?(byteCount: Int) {
        let rounded = (byteCount + Self.hugePage - 1) / Self.hugePage * Self.hugePage
        mappedBytes = rounded + Self.hugePage
        guard let mapped = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            mapped != MAP_FAILED
        else { return nil }
        mapping = mapped
        let aligned = (Int(bitPattern: mapped) + Self.hugePage - 1) / Self.hugePage * Self.hugePage
        base = UnsafeMutableRawPointer(bitPattern: aligned)!
        #if os(Linux)
        if byteCount >= Self.hugePage {
            _ = madvise(base, rounded, MADV_HUGEPAGE)  // Advisory: a refusal is harmless.
        }
        #endif
    }

    deinit {
        munmap(mapping, mappedBytes)
    }
}
