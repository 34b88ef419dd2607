import BeaconReports
import Foundation

/// `beacon bench placers --format html`: a page with two charts — nanoseconds per lookup against
/// N, and each placer's per-member load at one N — and the table of every figure.
enum PlacerHTMLReport {
    static func render(_ report: PlacerReport) -> String {
        let names = orderedNames(report)
        let mostKeys = report.placers.map(\.keys).max() ?? 0
        var html =
            HTMLPage.head(title: "Beacon placer benchmark") + """
                <p>Up to \(mostKeys) random \(report.keyLength)-byte keys per row (the keys column: rendezvous, O(N) per lookup,
                gets fewer at large N); median of \(report.repeats) runs. XXH64 of one key alone: \(TableReport.fixed(report.hashNsPerKey, 1)) ns.</p>

                """
        html += "<h2>Nanoseconds per lookup (cold keys) against the number of members</h2>\n"
        html += latencyChart(report, names: names).svg()
        if let n = distributionMemberCount(report) {
            html += "<h2>Per-member load at N = \(n): members sorted by load, load ÷ average</h2>\n"
            html += distributionChart(report, members: n, names: names).svg()
        }
        html += "<h2>All figures</h2>\n"
        html += HTMLPage.table(TableReport.rows(report))
        if let targets = report.targets {
            html += "<h2>\(HTMLPage.escape(targets.title))</h2>\n" + targets.htmlTable()
        }
        html +=
            "<p class=\"note\">Load-aware placers time acquire + release; their balance holds every request in flight, and no key "
            + "movement is measured for them (nor for round robin, which ignores the key).</p>\n"
        return html + HTMLPage.tail
    }

    static func orderedNames(_ report: PlacerReport) -> [String] {
        var seen: [String] = []
        for r in report.placers where !seen.contains(r.name) { seen.append(r.name) }
        return seen
    }

    /// The member count closest to 1 000 among those measured.
    static func distributionMemberCount(_ report: PlacerReport) -> Int? {
        Set(report.placers.map(\.members)).min { abs($0 - 1000) < abs($1 - 1000) }
    }

    static func latencyChart(_ report: PlacerReport, names: [String]) -> LineChart {
        let members = report.placers.map { Double($0.members) }
        let nanoseconds = report.placers.map(\.nsPerLookupCold)
        let series = names.enumerated().map { style, name in
            LineChart.Series(
                name: name, style: style,
                points: report.placers.filter { $0.name == name }.sorted { $0.members < $1.members }
                    .map { LineChart.Point(x: Double($0.members), y: $0.nsPerLookupCold) })
        }
        return LineChart(
            title: "Nanoseconds per lookup against members", xLabel: "members (log scale)",
            yLabel: "ns per lookup (log scale)",
            xScale: AxisScale(logarithmic: members.min() ?? 1, members.max() ?? 10),
            yScale: AxisScale(logarithmic: nanoseconds.min() ?? 1, nanoseconds.max() ?? 10), series: series)
    }

    /// Load ÷ average of each member, least to most loaded, against the member's rank as a share
    /// of N. A placer measured on fewer keys than the others says so in the legend: its spread is
    /// wider for that reason alone.
    static func distributionChart(_ report: PlacerReport, members n: Int, names: [String]) -> LineChart {
        let rows = report.placers.filter { $0.members == n && !$0.sortedLoads.isEmpty }
        let mostKeys = rows.map(\.keys).max() ?? 0
        var series: [LineChart.Series] = []
        for row in rows {
            guard let style = names.firstIndex(of: row.name) else { continue }
            let average = Double(row.sortedLoads.reduce(0, +)) / Double(row.sortedLoads.count)
            // At most ~400 points per line keeps the page light at large N.
            let step = max(1, row.sortedLoads.count / 400)
            var ranks = Array(stride(from: 0, to: row.sortedLoads.count, by: step))
            if ranks.last != row.sortedLoads.count - 1 { ranks.append(row.sortedLoads.count - 1) }
            let points = ranks.map {
                LineChart.Point(
                    x: 100 * Double($0) / Double(max(1, row.sortedLoads.count - 1)),
                    y: Double(row.sortedLoads[$0]) / average)
            }
            let name = row.keys < mostKeys ? "\(row.name) (\(row.keys) keys)" : row.name
            series.append(LineChart.Series(name: name, style: style, points: points))
        }
        let ratios = series.flatMap { $0.points.map(\.y) }
        var chart = LineChart(
            title: "Per-member load at N = \(n)", xLabel: "members, least to most loaded (% of N)",
            yLabel: "load ÷ average",
            xScale: AxisScale(linear: 0, 100), yScale: AxisScale(linear: 0, max(1.2, ratios.max() ?? 1.2)),
            series: series)
        chart.reference = 1
        return chart
    }
}
