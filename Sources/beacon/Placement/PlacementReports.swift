import BeaconSimulation
import Foundation

/// `beacon bench placement --format table`.
enum PlacementTableReport {
    static func render(_ report: PlacementReport) -> String {
        var lines: [String] = []
        if !report.overhead.isEmpty {
            lines.append("Overhead of placeCall when the first runner accepts (10 runners; median of 5 runs):")
            var rows = [["placer", "ns/call", "direct tryExec", "overhead", "mallocs/call"]]
            for o in report.overhead {
                rows.append([
                    o.placer, TableReport.fixed(o.nanosecondsPerCall, 1), TableReport.fixed(o.directNanosecondsPerCall, 1),
                    TableReport.fixed(o.overheadNanoseconds, 1), o.mallocsPerCall.map { TableReport.fixed($0, 2) } ?? "n/a",
                ])
            }
            lines += TableReport.layout(rows) + [""]
        }
        if let first = report.simulations.first?.workload {
            lines.append(
                "Simulated pool: \(first.slots) slots per runner, \(first.functions) functions (Zipf s = \(first.zipfExponent)), "
                    + "run time exp(mean \(TableReport.fixed(first.meanServiceMilliseconds, 0)) ms), "
                    + "\(TableReport.fixed(first.attemptMicroseconds, 0)) µs per attempt, \(TableReport.fixed(first.seconds, 0)) s per run.")
            var rows = [["placer", "runners", "util", "calls", "failed", "NACKs/call", "p50 µs", "p99 µs", "p99.9 µs", "home", "max/avg load", "sim s"]]
            for r in report.simulations {
                rows.append([
                    r.placer, "\(r.workload.runners)", TableReport.fixed(r.workload.utilisation, 2), "\(r.calls)", "\(r.failed)",
                    TableReport.fixed(r.nacksPerCall, 3), TableReport.fixed(r.latencyP50, 0), TableReport.fixed(r.latencyP99, 0),
                    TableReport.fixed(r.latencyP999, 0), TableReport.percent(r.locality), TableReport.fixed(r.maxOverAverage, 3),
                    TableReport.fixed(r.simulationSeconds, 1),
                ])
            }
            lines += TableReport.layout(rows)
            lines.append("")
            lines.append("Latency is Fn's lb_placer_latency: arrival to the start of the accepted attempt (NACK round trips and")
            lines.append("10 ms retry pauses). home: share of calls placed on the function's home runner (ch, ch-fn: its start")
            lines.append("runner; bounded-load: its ring owner; power-of-two: its first candidate; naive has none and is measured")
            lines.append("against ch's, for reference).")
        }
        return lines.joined(separator: "\n")
    }
}

/// `beacon bench placement --format html`: the tables and charts of NACKs per call, p99 latency and
/// home share against utilisation, and the per-runner load spread.
enum PlacementHTMLReport {
    static func render(_ report: PlacementReport) -> String {
        var html = HTMLReport.pageHead(title: "Beacon call placement")
        let names = report.simulations.reduce(into: [String]()) { if !$0.contains($1.placer) { $0.append($1.placer) } }
        for n in Set(report.simulations.map(\.workload.runners)).sorted() {
            let rows = report.simulations.filter { $0.workload.runners == n }
            html += "<h2>\(n) runners: NACKs per call against utilisation</h2>\n"
            html += lineChart(rows, names: names, yLabel: "NACKs per call") { $0.nacksPerCall }
            html += "<h2>\(n) runners: p99 placement latency (µs) against utilisation</h2>\n"
            html += lineChart(rows, names: names, yLabel: "p99 µs") { $0.latencyP99 }
            html += "<h2>\(n) runners: share of calls on the function's home runner</h2>\n"
            html += lineChart(rows, names: names, yLabel: "home share") { $0.locality }
            if let busiest = rows.map(\.workload.utilisation).max() {
                html += "<h2>\(n) runners at utilisation \(busiest): busy slots per runner ÷ average, sorted</h2>\n"
                html += spreadChart(rows.filter { $0.workload.utilisation == busiest }, names: names)
            }
        }
        html += "<h2>All figures</h2>\n<pre>\(HTMLReport.escape(PlacementTableReport.render(report)))</pre>\n</body></html>"
        return html
    }

    static func lineChart(
        _ rows: [PlacementSimulationResult], names: [String], yLabel: String, value: (PlacementSimulationResult) -> Double
    ) -> String {
        let (width, height, margin) = (HTMLReport.width, HTMLReport.height, HTMLReport.margin)
        let utilisations = Set(rows.map(\.workload.utilisation)).sorted()
        let (lo, hi) = (utilisations.first ?? 0, utilisations.last ?? 1)
        let top = max(rows.map(value).max() ?? 1, 1e-9) * 1.1
        func x(_ u: Double) -> Double {
            margin.left + (hi == lo ? 0.5 : (u - lo) / (hi - lo)) * (width - margin.left - margin.right)
        }
        func y(_ v: Double) -> Double { height - margin.bottom - v / top * (height - margin.top - margin.bottom) }
        var svg = HTMLReport.open() + HTMLReport.axes(xLabel: "utilisation", yLabel: yLabel)
        for u in utilisations { svg += HTMLReport.text(x(u), height - margin.bottom + 16, TableReport.fixed(u, 2), anchor: "middle") }
        for step in 0...4 {
            let v = top * Double(step) / 4
            svg += HTMLReport.text(margin.left - 6, y(v) + 4, v >= 10 ? TableReport.fixed(v, 0) : TableReport.fixed(v, 2), anchor: "end")
        }
        for (i, name) in names.enumerated() {
            let points = rows.filter { $0.placer == name }.sorted { $0.workload.utilisation < $1.workload.utilisation }
            guard !points.isEmpty else { continue }
            let color = HTMLReport.palette[i % HTMLReport.palette.count]
            let path = points.map { "\(HTMLReport.fmt(x($0.workload.utilisation))),\(HTMLReport.fmt(y(value($0))))" }
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path.joined(separator: " "))\"/>\n"
            svg += HTMLReport.legend(i, name)
        }
        return svg + "</svg>\n"
    }

    static func spreadChart(_ rows: [PlacementSimulationResult], names: [String]) -> String {
        let (width, height, margin) = (HTMLReport.width, HTMLReport.height, HTMLReport.margin)
        let top = max(1.5, rows.map(\.maxOverAverage).max() ?? 1.5)
        var svg = HTMLReport.open() + HTMLReport.axes(xLabel: "runners, least to most busy", yLabel: "busy ÷ average")
        func y(_ v: Double) -> Double { height - margin.bottom - v / top * (height - margin.top - margin.bottom) }
        for tick in stride(from: 0.0, through: top, by: 0.25) {
            svg += HTMLReport.text(margin.left - 6, y(tick) + 4, TableReport.fixed(tick, 2), anchor: "end")
        }
        for row in rows {
            guard let i = names.firstIndex(of: row.placer) else { continue }
            let count = row.sortedLoadRatios.count
            let path = row.sortedLoadRatios.enumerated().map { rank, ratio in
                let x = margin.left + Double(rank) / Double(max(1, count - 1)) * (width - margin.left - margin.right)
                return "\(HTMLReport.fmt(x)),\(HTMLReport.fmt(y(ratio)))"
            }
            svg += "<polyline fill=\"none\" stroke=\"\(HTMLReport.palette[i % HTMLReport.palette.count])\" stroke-width=\"2\" points=\"\(path.joined(separator: " "))\"/>\n"
            svg += HTMLReport.legend(i, row.placer)
        }
        return svg + "</svg>\n"
    }
}
