import BeaconReports
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
                    o.placer, TableReport.fixed(o.nanosecondsPerCall, 1),
                    TableReport.fixed(o.directNanosecondsPerCall, 1),
                    TableReport.fixed(o.overheadNanoseconds, 1),
                    o.mallocsPerCall.map { TableReport.fixed($0, 2) } ?? "n/a",
                ])
            }
            lines += TableReport.layout(rows) + [""]
        }
        if let first = report.simulations.first?.workload {
            lines.append(
                "Simulated pool: \(first.slots) slots per runner, \(first.functions) functions (Zipf s = \(first.zipfExponent)), "
                    + "run time exp(mean \(TableReport.fixed(first.meanServiceMilliseconds, 0)) ms), "
                    + "\(TableReport.fixed(first.attemptMicroseconds, 0)) µs per attempt, \(TableReport.fixed(first.seconds, 0)) s per run."
            )
            var rows = [
                [
                    "placer", "runners", "util", "calls", "failed", "NACKs/call", "p50 µs", "p99 µs", "p99.9 µs",
                    "home", "max/avg load", "sim s",
                ]
            ]
            for r in report.simulations {
                rows.append([
                    r.placer, "\(r.workload.runners)", TableReport.fixed(r.workload.utilisation, 2), "\(r.calls)",
                    "\(r.failed)",
                    TableReport.fixed(r.nacksPerCall, 3), TableReport.fixed(r.latencyP50, 0),
                    TableReport.fixed(r.latencyP99, 0),
                    TableReport.fixed(r.latencyP999, 0), TableReport.percent(r.locality),
                    TableReport.fixed(r.maxOverAverage, 3),
                    TableReport.fixed(r.simulationSeconds, 1),
                ])
            }
            lines += TableReport.layout(rows)
            lines.append("")
            lines.append(
                "Latency is Fn's lb_placer_latency: arrival to the start of the accepted attempt (NACK round trips and")
            lines.append(
                "10 ms retry pauses). home: share of calls placed on the function's home runner (ch, ch-fn: its start")
            lines.append(
                "runner; bounded-load: its ring owner; power-of-two: its first candidate; naive has none and is measured"
            )
            lines.append("against ch's, for reference).")
        }
        return lines.joined(separator: "\n")
    }
}

/// `beacon bench placement --format html`: per runner count, charts of NACKs per call, p99 latency
/// and home share against utilisation and the per-runner load spread, then every figure.
enum PlacementHTMLReport {
    static func render(_ report: PlacementReport) -> String {
        var html = HTMLPage.head(title: "Beacon call placement")
        let names = report.simulations.reduce(into: [String]()) { if !$0.contains($1.placer) { $0.append($1.placer) } }
        for n in Set(report.simulations.map(\.workload.runners)).sorted() {
            let rows = report.simulations.filter { $0.workload.runners == n }
            html += "<h2>\(n) runners: NACKs per call against utilisation</h2>\n"
            html += lineChart(rows, names: names, title: "\(n) runners: NACKs per call", yLabel: "NACKs per call") {
                $0.nacksPerCall
            }
            html += "<h2>\(n) runners: p99 placement latency against utilisation</h2>\n"
            html += lineChart(rows, names: names, title: "\(n) runners: p99 latency", yLabel: "p99 latency (µs)") {
                $0.latencyP99
            }
            html += "<h2>\(n) runners: share of calls on the function's home runner</h2>\n"
            html += lineChart(rows, names: names, title: "\(n) runners: home share", yLabel: "home share (%)") {
                100 * $0.locality
            }
            if let busiest = rows.map(\.workload.utilisation).max() {
                html += "<h2>\(n) runners at utilisation \(busiest): busy slots per runner ÷ average, sorted</h2>\n"
                html += spreadChart(rows.filter { $0.workload.utilisation == busiest }, names: names, runners: n)
            }
        }
        html += "<h2>All figures</h2>\n<pre>\(HTMLPage.escape(PlacementTableReport.render(report)))</pre>\n"
        return html + HTMLPage.tail
    }

    static func lineChart(
        _ rows: [PlacementSimulationResult], names: [String], title: String, yLabel: String,
        value: (PlacementSimulationResult) -> Double
    ) -> String {
        let utilisations = rows.map(\.workload.utilisation)
        let series = names.enumerated().compactMap { style, name -> LineChart.Series? in
            let points = rows.filter { $0.placer == name }.sorted { $0.workload.utilisation < $1.workload.utilisation }
            guard !points.isEmpty else { return nil }
            return LineChart.Series(
                name: name, style: style,
                points: points.map { LineChart.Point(x: $0.workload.utilisation, y: value($0)) })
        }
        return LineChart(
            title: title, xLabel: "utilisation", yLabel: yLabel,
            xScale: AxisScale(linear: utilisations.min() ?? 0, utilisations.max() ?? 1, includingZero: false),
            yScale: AxisScale(linear: 0, rows.map(value).max() ?? 1), series: series
        ).svg()
    }

    static func spreadChart(_ rows: [PlacementSimulationResult], names: [String], runners: Int) -> String {
        let series = rows.compactMap { row -> LineChart.Series? in
            guard let style = names.firstIndex(of: row.placer) else { return nil }
            let count = row.sortedLoadRatios.count
            let points = row.sortedLoadRatios.enumerated().map { rank, ratio in
                LineChart.Point(x: 100 * Double(rank) / Double(max(1, count - 1)), y: ratio)
            }
            return LineChart.Series(name: row.placer, style: style, points: points)
        }
        var chart = LineChart(
            title: "\(runners) runners: load spread", xLabel: "runners, least to most busy (% of runners)",
            yLabel: "busy ÷ average",
            xScale: AxisScale(linear: 0, 100),
            yScale: AxisScale(linear: 0, max(1.2, rows.map(\.maxOverAverage).max() ?? 1.2)),
            series: series)
        chart.reference = 1
        return chart.svg()
    }
}
