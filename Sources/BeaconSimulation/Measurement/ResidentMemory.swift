import Foundation

/// The process's resident set size, from `/proc/self/statm` (0 where there is none). Memory
/// freed during a measurement may stay resident, so a difference of two readings is an upper
/// bound.
package enum ResidentMemory {
    package static func bytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
