import BeaconReports

/// Issue 23's targets for the placers, held against the N = 1 000 rows of a run. The peers'
/// figures are the ones the issue measured on the project's machine with the peers' own code
/// (Go's cespare/xxhash and go-jump, buraksezer/consistent); the others are ratios of this run.
enum PlacerTargets {
    static let members = 1000
    /// Go's `cespare/xxhash` on a 21-byte key.
    static let peerHashNs = 5.8
    /// go-jump's lookup with its hash, cold and hot.
    static let peerJumpColdNs = 56.6
    static let peerJumpHotNs = 23.9
    /// buraksezer/consistent: its lookup at its default 271 partitions, the best max/avg it
    /// reached (at 100·N partitions) and the best of its two-goroutine speed-ups.
    static let peerTableLookupNs = 21.3
    static let peerTableMaxOverAvg = 1.34
    static let peerTableTwoThreads = 1.09

    /// The section, with a figure for each target whose rows the run measured; nil when the run
    /// had no row at N = 1 000.
    static func section(placers: [PlacerResult], hashNsPerKey: Double, keyLength: Int) -> BenchReport.Section? {
        func row(_ name: String) -> PlacerResult? {
            placers.first { $0.name == name && $0.members == members }
        }
        var section = BenchReport.Section(title: "against issue 23's targets (N = \(members); peers measured there)")
        if keyLength == 21 {
            section.add("XXH64 of a 21-byte key (Go xxhash: 5.8 ns)", hashNsPerKey, "ns", atMost: peerHashNs)
        }
        if let jump = row("jump") {
            section.add("jump lookup, cold (go-jump: 56.6 ns)", jump.nsPerLookupCold, "ns", atMost: peerJumpColdNs)
            section.add("jump lookup, hot (go-jump: 23.9 ns)", jump.nsPerLookupHot, "ns", atMost: peerJumpHotNs)
        }
        if let ring = row("ring") {
            section.add(
                "ring lookup, cold ÷ the hash alone", ring.nsPerLookupCold / hashNsPerKey, "x", atMost: 2)
        }
        if let speedup = row("round-robin")?.parallelSpeedup {
            section.add("round robin, 2 threads ÷ 1 thread", speedup, "x", atLeast: 1.7)
        }
        if let requests = row("bounded-load-requests") {
            section.add("request-level acquire + release, hot", requests.nsPerLookupHot, "ns", atMost: 30)
        }
        if let table = row("bounded-load") {
            section.add(
                "bounded-load table lookup, cold (consistent: 21.3 ns)", table.nsPerLookupCold, "ns",
                atMost: peerTableLookupNs)
            section.add(
                "bounded-load table max/avg (consistent: 1.34 at best)", table.maxOverAvg, "",
                atMost: peerTableMaxOverAvg)
            if let speedup = table.parallelSpeedup {
                section.add(
                    "bounded-load table, 2 threads ÷ 1 thread (consistent: 1.09x at best)", speedup, "x",
                    atLeast: peerTableTwoThreads)
            }
        }
        return section.figures.count > (keyLength == 21 ? 1 : 0) ? section : nil
    }
}
