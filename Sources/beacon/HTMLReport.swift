import Foundation

/// `--format html`: a self-contained page with the results table and two inline SVG charts —
/// nanoseconds per lookup against N, and each placer's per-member load distribution.
enum HTMLReport {
    static let palette = ["#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#2e4057", "#c97c5d"]

    static func render(_ report: PlacerReport) -> String {
        let names = orderedNames(report)
        var html = pageHead(title: "Beacon placer benchmark") + """
            <p>\(report.placers.first?.keys ?? 0) random \(report.keyLength)-byte keys; median of \(report.repeats) runs.
            XXH64 of one key alone: \(TableReport.fixed(report.hashNsPerKey, 1)) ns.</p>

            """
        html += "<h2>Nanoseconds per lookup (cold keys) against the number of members</h2>\n"
        html += latencyChart(report, names: names)
        if let n = distributionMemberCount(report) {
            html += "<h2>Per-member load at N = \(n): members sorted by load, load ÷ average</h2>\n"
            html += distributionChart(report, members: n, names: names)
        }
        html += "<h2>All figures</h2>\n<table><tr>"
        let header = ["placer", "N", "ns cold", "ns hot", "allocs", "max/avg", "moved join", "moved leave", "ideal", "table", "build"]
        html += header.map { "<th>\($0)</th>" }.joined() + "</tr>\n"
        for r in report.placers {
            let cells = [
                r.name, "\(r.members)", TableReport.fixed(r.nsPerLookupCold, 1), TableReport.fixed(r.nsPerLookupHot, 1),
                TableReport.fixed(r.allocsPerLookup, 2), TableReport.fixed(r.maxOverAvg, 3),
                r.movedOnJoin.map(TableReport.percent) ?? "-", r.movedOnLeave.map(TableReport.percent) ?? "-",
                TableReport.percent(r.idealMoved), TableReport.bytes(r.tableBytes), TableReport.micros(r.buildMicros),
            ]
            html += "<tr>" + cells.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
        }
        html += "</table>\n</body></html>"
        return html
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

    static let width = 760.0
    static let height = 360.0
    static let margin = (left: 60.0, right: 170.0, top: 20.0, bottom: 40.0)

    static func latencyChart(_ report: PlacerReport, names: [String]) -> String {
        let counts = Array(Set(report.placers.map(\.members))).sorted()
        let maxNs = max(1, report.placers.map(\.nsPerLookupCold).max() ?? 1)
        let (lo, hi) = (log10(Double(counts.first ?? 1)), log10(Double(counts.last ?? 10)))
        func x(_ n: Int) -> Double {
            margin.left + (hi == lo ? 0.5 : (log10(Double(n)) - lo) / (hi - lo)) * (width - margin.left - margin.right)
        }
        func y(_ ns: Double) -> Double {
            height - margin.bottom - log10(1 + ns) / log10(1 + maxNs) * (height - margin.top - margin.bottom)
        }
        var svg = open()
        svg += axes(xLabel: "members (log scale)", yLabel: "ns per lookup (log scale)")
        for n in counts {
            svg += text(x(n), height - margin.bottom + 16, "\(n)", anchor: "middle")
        }
        for tick in [1.0, 10, 100, 1000, 10000, 100_000] where tick <= maxNs * 1.5 {
            svg += text(margin.left - 6, y(tick) + 4, TableReport.fixed(tick, 0), anchor: "end")
        }
        for (i, name) in names.enumerated() {
            let points = report.placers.filter { $0.name == name }.sorted { $0.members < $1.members }
            let path = points.map { "\(fmt(x($0.members))),\(fmt(y($0.nsPerLookupCold)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(palette[i % palette.count])\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            for p in points {
                svg += "<circle cx=\"\(fmt(x(p.members)))\" cy=\"\(fmt(y(p.nsPerLookupCold)))\" r=\"3\" fill=\"\(palette[i % palette.count])\"/>\n"
            }
            svg += legend(i, name)
        }
        return svg + "</svg>\n"
    }

    static func distributionChart(_ report: PlacerReport, members n: Int, names: [String]) -> String {
        let rows = report.placers.filter { $0.members == n && !$0.sortedLoads.isEmpty }
        let maxRatio = max(1.5, rows.map(\.maxOverAvg).max() ?? 1.5)
        func x(_ rank: Int) -> Double {
            margin.left + Double(rank) / Double(max(1, n - 1)) * (width - margin.left - margin.right)
        }
        func y(_ ratio: Double) -> Double {
            height - margin.bottom - ratio / maxRatio * (height - margin.top - margin.bottom)
        }
        var svg = open()
        svg += axes(xLabel: "members, least to most loaded", yLabel: "load ÷ average")
        for tick in stride(from: 0.0, through: maxRatio, by: 0.25) {
            svg += text(margin.left - 6, y(tick) + 4, TableReport.fixed(tick, 2), anchor: "end")
        }
        svg += "<line x1=\"\(fmt(margin.left))\" x2=\"\(fmt(width - margin.right))\" y1=\"\(fmt(y(1)))\" y2=\"\(fmt(y(1)))\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n"
        for row in rows {
            guard let i = names.firstIndex(of: row.name) else { continue }
            let average = Double(row.sortedLoads.reduce(0, +)) / Double(row.sortedLoads.count)
            // At most ~400 points per line keeps the page light at large N.
            let step = max(1, row.sortedLoads.count / 400)
            var ranks = Array(stride(from: 0, to: row.sortedLoads.count, by: step))
            if ranks.last != row.sortedLoads.count - 1 { ranks.append(row.sortedLoads.count - 1) }
            let path = ranks.map { "\(fmt(x($0))),\(fmt(y(Double(row.sortedLoads[$0]) / average)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(palette[i % palette.count])\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            svg += legend(i, row.name)
        }
        return svg + "</svg>\n"
    }

    /// The start of a self-contained report page, through its `<h1>`.
    static func pageHead(title: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
        table{border-collapse:collapse;margin:1em 0}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}
        td:first-child,th:first-child{text-align:left}svg{background:#fafafa;border:1px solid #ddd;margin:1em 0}
        .missed{color:#b00020;font-weight:bold}
        </style></head><body>
        <h1>\(escape(title))</h1>

        """
    }

    static func open() -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-size=\"11\">\n"
    }

    static func axes(xLabel: String, yLabel: String) -> String {
        let bottom = height - margin.bottom
        return """
            <line x1="\(fmt(margin.left))" y1="\(fmt(bottom))" x2="\(fmt(width - margin.right))" y2="\(fmt(bottom))" stroke="#333"/>
            <line x1="\(fmt(margin.left))" y1="\(fmt(margin.top))" x2="\(fmt(margin.left))" y2="\(fmt(bottom))" stroke="#333"/>
            \(text((margin.left + width - margin.right) / 2, height - 6, xLabel, anchor: "middle"))
            <text x="14" y="\(fmt(height / 2))" text-anchor="middle" transform="rotate(-90 14 \(fmt(height / 2)))">\(escape(yLabel))</text>

            """
    }

    static func legend(_ index: Int, _ name: String) -> String {
        let y = margin.top + 10 + Double(index) * 18
        let x = width - margin.right + 14
        return "<rect x=\"\(fmt(x))\" y=\"\(fmt(y - 8))\" width=\"12\" height=\"4\" fill=\"\(palette[index % palette.count])\"/>"
            + text(x + 18, y, name, anchor: "start")
    }

    static func text(_ x: Double, _ y: Double, _ content: String, anchor: String) -> String {
        "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" text-anchor=\"\(anchor)\">\(escape(content))</text>\n"
    }

    static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
