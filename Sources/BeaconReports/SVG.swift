import Foundation

/// The SVG elements the charts are made of, and the text-width estimate their layout relies on.
package enum SVG {
    /// Font size of every chart label, in pixels.
    package static let fontSize = 11.0

    /// An upper estimate of `text`'s width at ``fontSize``. The page names no web font, so the
    /// browser picks its sans-serif (DejaVu Sans on Debian, among the widest): 0.64 em covers its
    /// digits and lower case, and wide capitals are counted wider.
    package static func width(_ text: String) -> Double {
        text.reduce(0.0) { sum, character in
            sum
                + (character.isUppercase || character == "—" || character == "%"
                    ? 0.82 : character == " " ? 0.34 : 0.64)
        } * fontSize
    }

    /// One decimal at most: positions finer than a tenth of a pixel change nothing on screen.
    package static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }

    package static func open(width: Double, height: Double, label: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"\(HTMLPage.escape(label))\" width=\"\(number(width))\" height=\"\(number(height))\" "
            + "viewBox=\"0 0 \(number(width)) \(number(height))\" font-family=\"sans-serif\" font-size=\"\(number(fontSize))\">\n"
    }

    package enum Anchor: String {
        case start, middle, end
    }

    package static func text(_ x: Double, _ y: Double, _ content: String, anchor: Anchor, extra: String = "") -> String
    {
        "<text x=\"\(number(x))\" y=\"\(number(y))\" text-anchor=\"\(anchor.rawValue)\"\(extra.isEmpty ? "" : " " + extra)>\(HTMLPage.escape(content))</text>\n"
    }

    package static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, extra: String = "")
        -> String
    {
        "<line x1=\"\(number(x1))\" y1=\"\(number(y1))\" x2=\"\(number(x2))\" y2=\"\(number(y2))\" stroke=\"\(stroke)\"\(extra.isEmpty ? "" : " " + extra)/>\n"
    }

    package static func rect(_ x: Double, _ y: Double, _ width: Double, _ height: Double, attributes: String) -> String
    {
        "<rect x=\"\(number(x))\" y=\"\(number(y))\" width=\"\(number(width))\" height=\"\(number(height))\" \(attributes)/>\n"
    }

    package static func path(_ data: String, attributes: String) -> String {
        "<path d=\"\(data)\" \(attributes)/>\n"
    }

    /// The plot area: a white rectangle the marks are drawn on, which the browser test finds by
    /// its class to check that every mark lies inside it.
    package static func plotArea(_ frame: PlotFrame) -> String {
        rect(
            frame.left, frame.top, frame.width, frame.height,
            attributes: "class=\"plot-area\" fill=\"#fff\" stroke=\"#bbb\"")
    }
}

/// Where a chart's plot area sits in its SVG.
package struct PlotFrame: Sendable {
    package var left: Double
    package var top: Double
    package var width: Double
    package var height: Double

    package var right: Double { left + width }
    package var bottom: Double { top + height }

    /// The x of `value` on `scale` across the frame.
    package func x(_ value: Double, on scale: AxisScale) -> Double { left + scale.position(value) * width }
    /// The y of `value` on `scale`, upwards from the frame's bottom.
    package func y(_ value: Double, on scale: AxisScale) -> Double { bottom - scale.position(value) * height }
}
