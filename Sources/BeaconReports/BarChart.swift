/// Horizontal bars, one labelled row each, on a shared value axis; a legend row on top names
/// the bar colours.
package struct BarChart: Sendable {
    package struct Bar: Sendable {
        package var label: String
        package var value: Double
        /// Printed after the bar's end: the value with its unit.
        package var valueLabel: String
        package var colour: String

        package init(label: String, value: Double, valueLabel: String, colour: String) {
            self.label = label
            self.value = value
            self.valueLabel = valueLabel
            self.colour = colour
        }
    }

    package struct LegendEntry: Sendable {
        package var name: String
        package var colour: String

        package init(name: String, colour: String) {
            self.name = name
            self.colour = colour
        }
    }

    package var title: String
    package var axisLabel: String
    package var bars: [Bar]
    package var legend: [LegendEntry]

    package init(title: String, axisLabel: String, bars: [Bar], legend: [LegendEntry] = []) {
        self.title = title
        self.axisLabel = axisLabel
        self.bars = bars
        self.legend = legend
    }

    /// The axis: linear from zero, or logarithmic when the positive values span more than three
    /// decades (a linear axis would leave the small ones without a visible bar).
    package var scale: AxisScale {
        let positive = bars.map(\.value).filter { $0 > 0 }
        let (low, high) = (positive.min() ?? 1, positive.max() ?? 1)
        return high / low > 1000 ? AxisScale(logarithmic: low, high) : AxisScale(linear: 0, high)
    }

    static let rowHeight = 20.0

    package func svg() -> String {
        let scale = scale
        let labelWidth = bars.map { SVG.width($0.label) }.max() ?? 0
        let valueWidth = bars.map { SVG.width($0.valueLabel) }.max() ?? 0
        let left = 10 + labelWidth + 10
        let right = 8 + valueWidth + 12
        let top = legend.isEmpty ? 10.0 : 34
        let plotHeight = Double(bars.count) * Self.rowHeight + 4
        let width = max(640, left + 380 + right)
        let height = top + plotHeight + 44
        let frame = PlotFrame(left: left, top: top, width: width - left - right, height: plotHeight)

        var svg = SVG.open(width: width, height: height, label: title)
        var x = 10.0
        for entry in legend {
            svg += SVG.rect(x, 8, 12, 12, attributes: "class=\"legend\" fill=\"\(entry.colour)\"")
            svg += SVG.text(x + 17, 18, entry.name, anchor: .start)
            x += 17 + SVG.width(entry.name) + 18
        }
        svg += SVG.plotArea(frame)
        var lastLabelEnd = -Double.infinity
        for tick in scale.ticks {
            let tickX = frame.x(tick, on: scale)
            svg += SVG.line(tickX, frame.top, tickX, frame.bottom + 4, stroke: tick == scale.lower ? "#555" : "#e4e4e4")
            let label = scale.label(tick)
            let half = SVG.width(label) / 2
            guard tickX - half > lastLabelEnd + 6 else { continue }
            svg += SVG.text(tickX, frame.bottom + 17, label, anchor: .middle)
            lastLabelEnd = tickX + half
        }
        svg += SVG.text(frame.left + frame.width / 2, height - 8, axisLabel, anchor: .middle)
        for (row, bar) in bars.enumerated() {
            let y = frame.top + 2 + Double(row) * Self.rowHeight
            let length = bar.value > 0 ? scale.position(bar.value) * frame.width : 0
            svg += SVG.text(frame.left - 8, y + 14, bar.label, anchor: .end)
            if length > 0 {
                svg += SVG.rect(frame.left, y + 4, length, 12, attributes: "class=\"mark\" fill=\"\(bar.colour)\"")
            }
            svg += SVG.text(frame.left + length + 6, y + 14, bar.valueLabel, anchor: .start)
        }
        return svg + "</svg>\n"
    }
}
