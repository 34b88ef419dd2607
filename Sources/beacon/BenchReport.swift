import Foundation

/// A benchmark command's results (heartbeat wheel, task diff): named figures in sections, each
/// with its unit and, where an issue set one, the target it is held to.
struct BenchReport: Codable {
    struct Figure: Codable {
        var name: String
        var value: Double
        var unit: String
        /// The target as text ("≤ 10"), and whether the value meets it.
        var target: String?
        var meetsTarget: Bool?
    }

    struct Section: Codable {
        var title: String
        var figures: [Figure] = []

        mutating func add(_ name: String, _ value: Double, _ unit: String, atMost limit: Double? = nil, atLeast floor: Double? = nil) {
            var figure = Figure(name: name, value: value, unit: unit)
            if let limit {
                figure.target = "≤ \(BenchReport.format(limit))"
                figure.meetsTarget = value <= limit
            } else if let floor {
                figure.target = "≥ \(BenchReport.format(floor))"
                figure.meetsTarget = value >= floor
            }
            figures.append(figure)
        }
    }

    /// What was measured, e.g. "Heartbeat wheel benchmark, 1000000 nodes".
    var title: String
    var machine: String
    var allocationCounting: Bool
    var sections: [Section] = []

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(format: "%.0f", value)
            : abs(value) >= 100 ? String(format: "%.1f", value) : String(format: "%.3g", value)
    }

    /// The report in the format asked for on the command line.
    func rendered(as format: BenchPlacers.Format) throws -> String {
        switch format {
        case .table: table()
        case .json: try json()
        case .html: html()
        }
    }

    func table() -> String {
        var lines = ["\(title), \(machine)", ""]
        let nameWidth = sections.flatMap { $0.figures.map(\.name.count) }.max() ?? 10
        for section in sections {
            lines.append(section.title)
            for figure in section.figures {
                var line = "  " + figure.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                let value = Self.format(figure.value) + " " + figure.unit
                line += "  " + String(repeating: " ", count: max(0, 16 - value.count)) + value
                if let target = figure.target, let meets = figure.meetsTarget {
                    line += "   target \(target) \(figure.unit): " + (meets ? "met" : "MISSED")
                }
                lines.append(line)
            }
            lines.append("")
        }
        if !allocationCounting { lines.append("note: the malloc interposer is not active; allocation counts are omitted") }
        return lines.joined(separator: "\n")
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// A self-contained page: one table per section, and a bar chart of the first section's
    /// nanosecond figures.
    func html() -> String {
        var html = HTMLReport.pageHead(title: "Beacon: " + title) + """
            <p>\(HTMLReport.escape(title)); \(HTMLReport.escape(machine)).</p>

            """
        if let first = sections.first {
            html += "<h2>\(HTMLReport.escape(first.title))</h2>\n" + nanosecondChart(first)
        }
        for section in sections {
            html += "<h2>\(HTMLReport.escape(section.title))</h2>\n<table><tr><th>figure</th><th>value</th><th>target</th></tr>\n"
            for figure in section.figures {
                let verdict = figure.meetsTarget.map { $0 ? "met" : "<span class=\"missed\">missed</span>" } ?? ""
                html += "<tr><td>\(HTMLReport.escape(figure.name))</td><td>\(Self.format(figure.value)) \(HTMLReport.escape(figure.unit))</td>"
                html += "<td>\(HTMLReport.escape(figure.target ?? "")) \(verdict)</td></tr>\n"
            }
            html += "</table>\n"
        }
        return html + "</body></html>\n"
    }

    private func nanosecondChart(_ section: Section) -> String {
        let bars = section.figures.filter { $0.unit == "ns" }
        let top = max(bars.map(\.value).max() ?? 1, 1)
        let rowHeight = 22.0
        let width = 720.0
        let labelWidth = 260.0
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(Double(bars.count) * rowHeight + 10))\" font-size=\"11\">\n"
        for (row, bar) in bars.enumerated() {
            let y = 5 + Double(row) * rowHeight
            let length = (width - labelWidth - 80) * bar.value / top
            let colour = bar.meetsTarget == false ? "#d1495b" : "#1b6ca8"
            svg += HTMLReport.text(labelWidth - 6, y + 14, bar.name, anchor: "end")
            svg += "<rect x=\"\(HTMLReport.fmt(labelWidth))\" y=\"\(HTMLReport.fmt(y + 3))\" width=\"\(HTMLReport.fmt(length))\" height=\"14\" fill=\"\(colour)\"/>\n"
            svg += HTMLReport.text(labelWidth + length + 6, y + 14, Self.format(bar.value) + " ns", anchor: "start")
        }
        return svg + "</svg>\n"
    }
}
