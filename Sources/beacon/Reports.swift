import BeaconReports
import Foundation

/// `--format table`: one row per placer and member count.
enum TableReport {
    static func render(_ report: PlacerReport) -> String {
        var lines = layout(rows(report))
        lines.append("")
        lines.append("XXH64 of one \(report.keyLength)-byte key alone: \(fixed(report.hashNsPerKey, 1)) ns")
        lines.append(
            "Lookups include hashing the key. Cold: each of a row's keys (distinct) once; hot: 1024 keys repeated.")
        lines.append(
            "Rendezvous is O(N) per lookup, so it gets fewer keys at large N; its balance is measured on those keys.")
        lines.append(
            "Load-aware placers time acquire + release; their balance holds every request in flight. No key movement")
        lines.append(
            "is measured for them, nor for round robin, which ignores the key: their moved and ideal cells are -.")
        if let targets = report.targets {
            lines.append("")
            lines += targets.textLines(nameWidth: targets.figures.map(\.name.count).max() ?? 0)
        }
        return lines.joined(separator: "\n")
    }

    /// Every figure of every row, headed: the text table and the HTML page's table both show
    /// exactly these.
    static func rows(_ report: PlacerReport) -> [[String]] {
        let header = [
            "placer", "N", "keys", "ns cold", "ns hot", "allocs", "max/avg", "stddev", "moved join", "moved leave",
            "ideal leave", "table", "build", "update", "ns 3-rep", "2-thread",
        ]
        return [header]
            + report.placers.map { r in
                [
                    r.name, "\(r.members)", "\(r.keys)", fixed(r.nsPerLookupCold, 1), fixed(r.nsPerLookupHot, 1),
                    report.allocationCounting ? fixed(r.allocsPerLookup, 2) : "n/a",
                    fixed(r.maxOverAvg, 3), fixed(r.stddevOverAvg, 3),
                    r.movedOnJoin.map { percent($0) } ?? "-", r.movedOnLeave.map { percent($0) } ?? "-",
                    idealMoved(r), bytes(r.tableBytes), micros(r.buildMicros),
                    r.updateMicros.map { micros($0) } ?? "-", r.nsPerReplicaSet3.map { fixed($0, 1) } ?? "-",
                    r.parallelSpeedup.map { fixed($0, 2) + "x" } ?? "-",
                ]
            }
    }

    /// `rows` as aligned text lines: the first row a header underlined with dashes, the first
    /// column left-aligned and the others right-aligned.
    static func layout(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
        var lines = rows.map { row in
            row.enumerated().map { column, cell in
                column == 0
                    ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }
        lines.insert(String(repeating: "-", count: lines[0].count), at: 1)
        return lines
    }

    /// 1/N, the share of keys a leave must move, where movement is measured; "-" where it is not.
    static func idealMoved(_ result: PlacerResult) -> String {
        result.movedOnLeave == nil ? "-" : percent(result.idealMoved)
    }

    static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
    static func percent(_ value: Double) -> String { String(format: "%.2f%%", value * 100) }
    static func micros(_ value: Double) -> String {
        value >= 1000 ? String(format: "%.1f ms", value / 1000) : String(format: "%.0f µs", value)
    }
    static func bytes(_ value: Int) -> String {
        value >= 1 << 20
            ? String(format: "%.1f MiB", Double(value) / 1_048_576)
            : value >= 1024 ? String(format: "%.0f KiB", Double(value) / 1024) : "\(value) B"
    }
}

/// `--format json`.
enum JSONReport {
    static func render(_ report: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }
}
