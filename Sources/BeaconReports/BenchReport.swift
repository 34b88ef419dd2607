import Foundation

/// A benchmark command's results (heartbeat wheel, task diff, dispatcher simulation): named
/// figures in sections, each with its unit and, where an issue set one, the target it is held to.
package struct BenchReport: Codable, Sendable {
    package struct Figure: Codable, Sendable {
        package var name: String
        package var value: Double
        package var unit: String
        /// The target as text ("≤ 10"), and whether the value meets it.
        package var target: String?
        package var meetsTarget: Bool?
    }

    package struct Section: Codable, Sendable {
        package var title: String
        package var figures: [Figure] = []

        package init(title: String) {
            self.title = title
        }

        package mutating func add(
            _ name: String, _ value: Double, _ unit: String, atMost limit: Double? = nil, atLeast floor: Double? = nil
        ) {
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

        /// The figures as text lines, names padded to `nameWidth`, each with its target and
        /// verdict where it has one.
        package func textLines(nameWidth: Int) -> [String] {
            var lines = [title]
            for figure in figures {
                var line = "  " + figure.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                let value = BenchReport.format(figure.value) + " " + figure.unit
                line += "  " + String(repeating: " ", count: max(0, 16 - value.count)) + value
                if let target = figure.target, let meets = figure.meetsTarget {
                    line += "   target \(target) \(figure.unit): " + (meets ? "met" : "MISSED")
                }
                lines.append(line)
            }
            return lines
        }

        /// The figures as an HTML table: figure, value, target and verdict.
        package func htmlTable() -> String {
            var html = "<table><tr><th>figure</th><th>value</th><th>target</th></tr>\n"
            for figure in figures {
                let verdict = figure.meetsTarget.map { $0 ? "met" : "<span class=\"missed\">missed</span>" } ?? ""
                html +=
                    "<tr><td>\(HTMLPage.escape(figure.name))</td><td>\(BenchReport.format(figure.value)) \(HTMLPage.escape(figure.unit))</td>"
                html += "<td>\(HTMLPage.escape(figure.target ?? "")) \(verdict)</td></tr>\n"
            }
            return html + "</table>\n"
        }

        /// The figures a chart of this section draws: those of the unit most of its figures share
        /// (the first such unit on a tie), when at least two do. Counts without a unit are not
        /// drawn: they are tallies, not quantities to compare.
        package var chartedFigures: [Figure] {
            var counts: [String: Int] = [:]
            var units: [String] = []
            for figure in figures where !figure.unit.isEmpty {
                if counts[figure.unit] == nil { units.append(figure.unit) }
                counts[figure.unit, default: 0] += 1
            }
            // max(by:) keeps the first of equal elements.
            guard let unit = units.max(by: { counts[$0]! < counts[$1]! }), counts[unit]! >= 2 else { return [] }
            return figures.filter { $0.unit == unit }
        }
    }

    /// What was measured, e.g. "Heartbeat wheel benchmark, 1000000 nodes".
    package var title: String
    package var machine: String
    package var allocationCounting: Bool
    package var sections: [Section] = []

    package init(title: String, machine: String, allocationCounting: Bool) {
        self.title = title
        self.machine = machine
        self.allocationCounting = allocationCounting
    }

    package static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9
            ? String(format: "%.0f", value)
            : abs(value) >= 100 ? String(format: "%.1f", value) : String(format: "%.3g", value)
    }

    package func table() -> String {
        var lines = ["\(title), \(machine)", ""]
        let nameWidth = sections.flatMap { $0.figures.map(\.name.count) }.max() ?? 10
        for section in sections {
            lines += section.textLines(nameWidth: nameWidth)
            lines.append("")
        }
        if !allocationCounting {
            lines.append("note: the malloc interposer is not active; allocation counts are omitted")
        }
        return lines.joined(separator: "\n")
    }

    package func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// A self-contained page: per section, its heading, a bar chart of the figures that share its
    /// main unit, and a table of all its figures.
    package func html() -> String {
        var html =
            HTMLPage.head(title: "Beacon: " + title)
            + "<p>\(HTMLPage.escape(title)); \(HTMLPage.escape(machine)).</p>\n"
        if !allocationCounting {
            html += "<p class=\"note\">The malloc interposer was not active; allocation counts are omitted.</p>\n"
        }
        for section in sections {
            html += "<h2>\(HTMLPage.escape(section.title))</h2>\n"
            let charted = section.chartedFigures
            if !charted.isEmpty { html += Self.chart(section.title, charted).svg() }
            html += section.htmlTable()
        }
        return html + HTMLPage.tail
    }

    /// Bars coloured by verdict: met, missed, or held to no target.
    static func chart(_ title: String, _ figures: [Figure]) -> BarChart {
        func colour(_ figure: Figure) -> String {
            switch figure.meetsTarget {
            case true?: ChartPalette.met
            case false?: ChartPalette.missed
            case nil: ChartPalette.neutral
            }
        }
        let bars = figures.map {
            BarChart.Bar(
                label: $0.name, value: $0.value, valueLabel: format($0.value) + " " + $0.unit, colour: colour($0))
        }
        var legend: [BarChart.LegendEntry] = []
        for (name, verdict) in [("no target", Bool?.none), ("target met", true), ("target missed", false)]
        where figures.contains(where: { $0.meetsTarget == verdict }) {
            legend.append(
                .init(
                    name: name,
                    colour: verdict.map { $0 ? ChartPalette.met : ChartPalette.missed } ?? ChartPalette.neutral))
        }
        var chart = BarChart(title: title, axisLabel: figures[0].unit, bars: bars, legend: legend)
        if chart.scale.kind == .logarithmic { chart.axisLabel += " (log scale)" }
        return chart
    }
}
