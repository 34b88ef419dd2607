/// The series styles every chart shares: a fixed qualitative palette whose colours stay apart
/// for readers with the common colour-vision deficiencies (after Okabe and Ito, with black
/// and a dark grey for the last two), and a dash pattern and marker per series, so two series whose
/// lines coincide still show both.
package enum ChartPalette {
    package static let colours = [
        "#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#000000", "#8c7e00", "#7f7f7f",
    ]
    /// Stroke dash patterns, none for the first series.
    package static let dashes = ["", "7 3", "2 2", "9 3 2 3", "4 4", "12 4", "1 3", "6 2 1 2", "3 6"]

    /// Colours of a bar chart's verdict categories.
    package static let met = "#009e73"
    package static let missed = "#d55e00"
    package static let neutral = "#0072b2"

    package static func colour(_ series: Int) -> String { colours[series % colours.count] }
    package static func dash(_ series: Int) -> String { dashes[series % dashes.count] }

    /// A marker centred on (x, y): circle, square, triangle, diamond, cross, then again. `role`
    /// is its class: `mark` on the plot, `legend` beside a series' name.
    package static func marker(_ series: Int, x: Double, y: Double, role: String = "mark") -> String {
        let colour = colour(series)
        let mark = "class=\"\(role)\" fill=\"\(colour)\""
        switch series % 5 {
        case 0:
            return "<circle \(mark) cx=\"\(SVG.number(x))\" cy=\"\(SVG.number(y))\" r=\"3.2\"/>\n"
        case 1:
            return "<rect \(mark) x=\"\(SVG.number(x - 3))\" y=\"\(SVG.number(y - 3))\" width=\"6\" height=\"6\"/>\n"
        case 2:
            return SVG.path(
                "M\(SVG.number(x)) \(SVG.number(y - 3.8))L\(SVG.number(x + 3.6)) \(SVG.number(y + 2.6))L\(SVG.number(x - 3.6)) \(SVG.number(y + 2.6))Z",
                attributes: mark)
        case 3:
            return SVG.path(
                "M\(SVG.number(x)) \(SVG.number(y - 4))L\(SVG.number(x + 4)) \(SVG.number(y))L\(SVG.number(x)) \(SVG.number(y + 4))L\(SVG.number(x - 4)) \(SVG.number(y))Z",
                attributes: mark)
        default:
            return SVG.path(
                "M\(SVG.number(x - 3.5)) \(SVG.number(y - 3.5))L\(SVG.number(x + 3.5)) \(SVG.number(y + 3.5))M\(SVG.number(x + 3.5)) \(SVG.number(y - 3.5))L\(SVG.number(x - 3.5)) \(SVG.number(y + 3.5))",
                attributes: "class=\"\(role)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"")
        }
    }
}
