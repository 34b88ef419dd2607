/// A chart of one or more series of points joined by lines, with a legend on the right. Each
/// series keeps its style (colour, dash, marker) by its ``Series/style`` index, so one placer
/// looks the same in every chart of a page.
package struct LineChart: Sendable {
    package struct Point: Sendable {
        package var x: Double
        package var y: Double

        package init(x: Double, y: Double) {
            self.x = x
            self.y = y
        }
    }

    package struct Series: Sendable {
        package var name: String
        package var style: Int
        package var points: [Point]

        package init(name: String, style: Int, points: [Point]) {
            self.name = name
            self.style = style
            self.points = points
        }
    }

    /// Names the chart for screen readers and for the browser test's messages.
    package var title: String
    package var xLabel: String
    package var yLabel: String
    package var xScale: AxisScale
    package var yScale: AxisScale
    package var series: [Series]
    /// Markers on at most this many points per series (spread evenly, offset per series so the
    /// markers of coinciding lines do not hide each other).
    package var markersPerSeries = 12
    /// A dashed horizontal reference line (an ideal or an average).
    package var reference: Double?

    package init(title: String, xLabel: String, yLabel: String, xScale: AxisScale, yScale: AxisScale, series: [Series])
    {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xScale = xScale
        self.yScale = yScale
        self.series = series
    }

    /// Blank space between the plot area's border and the outermost data positions, so markers
    /// drawn on the domain's ends stay inside the border.
    static let inset = 6.0

    package func svg() -> String {
        let yLabels = yScale.ticks.map(yScale.label)
        let legendWidth = 22 + 6 + (series.map { SVG.width($0.name) }.max() ?? 0) + 12
        let left = 10 + (yLabels.map(SVG.width).max() ?? 0) + 8 + Self.inset
        let right = Self.inset + 16 + legendWidth
        let top = 32.0 + Self.inset
        let bottom = 46.0 + Self.inset
        let plotHeight = max(250, Double(series.count) * 18 + 10 - Self.inset * 2)
        let width = max(760, left + right + 340)
        let height = top + plotHeight + bottom
        let frame = PlotFrame(left: left, top: top, width: width - left - right, height: plotHeight)

        var svg = SVG.open(width: width, height: height, label: title)
        svg += SVG.plotArea(
            PlotFrame(
                left: frame.left - Self.inset, top: frame.top - Self.inset, width: frame.width + 2 * Self.inset,
                height: frame.height + 2 * Self.inset))
        let axisBottom = frame.bottom + Self.inset
        for (tick, label) in zip(yScale.ticks, yLabels) {
            let y = frame.y(tick, on: yScale)
            svg += SVG.line(frame.left - Self.inset, y, frame.right + Self.inset, y, stroke: "#e4e4e4")
            svg += SVG.text(frame.left - Self.inset - 6, y + 4, label, anchor: .end)
        }
        var lastLabelEnd = -Double.infinity
        for tick in xScale.ticks {
            let x = frame.x(tick, on: xScale)
            let label = xScale.label(tick)
            let half = SVG.width(label) / 2
            svg += SVG.line(x, axisBottom, x, axisBottom + 4, stroke: "#555")
            // A label that would touch the previous one is left out; its tick mark stays.
            guard x - half > lastLabelEnd + 6 else { continue }
            svg += SVG.text(x, axisBottom + 17, label, anchor: .middle)
            lastLabelEnd = x + half
        }
        svg += SVG.text(frame.left + frame.width / 2, height - 8, xLabel, anchor: .middle)
        svg += SVG.text(8, 18, yLabel, anchor: .start, extra: "font-weight=\"bold\"")
        if let reference {
            let y = frame.y(reference, on: yScale)
            svg += SVG.line(frame.left, y, frame.right, y, stroke: "#777", extra: "stroke-dasharray=\"3 3\"")
        }
        for line in series where !line.points.isEmpty {
            let points = line.points.map {
                "\(SVG.number(frame.x($0.x, on: xScale))),\(SVG.number(frame.y($0.y, on: yScale)))"
            }
            let dash = ChartPalette.dash(line.style)
            svg +=
                "<polyline class=\"mark\" fill=\"none\" stroke=\"\(ChartPalette.colour(line.style))\" stroke-width=\"2\" stroke-opacity=\"0.9\""
                + (dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"")
                + " points=\"\(points.joined(separator: " "))\"/>\n"
            for index in markerIndices(count: line.points.count, style: line.style) {
                let point = line.points[index]
                svg += ChartPalette.marker(line.style, x: frame.x(point.x, on: xScale), y: frame.y(point.y, on: yScale))
            }
        }
        for (row, line) in series.enumerated() {
            let y = frame.top - Self.inset + 10 + Double(row) * 18
            let x = frame.right + Self.inset + 16
            let dash = ChartPalette.dash(line.style)
            svg += SVG.line(
                x, y - 4, x + 22, y - 4, stroke: ChartPalette.colour(line.style),
                extra: "class=\"legend\" stroke-width=\"2\"" + (dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\""))
            svg += ChartPalette.marker(line.style, x: x + 11, y: y - 4, role: "legend")
            svg += SVG.text(x + 28, y, line.name, anchor: .start)
        }
        return svg + "</svg>\n"
    }

    /// Every point when there are few; otherwise about ``markersPerSeries`` of them, shifted by
    /// the series' style so coinciding series show their markers side by side.
    func markerIndices(count: Int, style: Int) -> [Int] {
        guard count > markersPerSeries else { return Array(0..<count) }
        let step = Double(count - 1) / Double(markersPerSeries)
        let offset = step * Double(style % 5) / 5
        return (0..<markersPerSeries).map { min(count - 1, Int((Double($0) * step + offset).rounded())) }
    }
}
