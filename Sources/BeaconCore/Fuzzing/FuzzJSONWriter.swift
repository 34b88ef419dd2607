/// Writes JSON for the fuzz harnesses that build well-formed messages from their input (the
/// etcd gateway's answers, TiFlow's messages): objects whose fields come in either order, with
/// or without spaces, so a decoder is exercised beyond one fixed layout.
///
/// Not for use outside Beacon's tests and fuzzers.
package struct FuzzJSONWriter {
    /// Spaces around punctuation (never newlines, which frame messages in some streams).
    package var spaced = false
    /// Fields in reverse order.
    package var reversed = false

    package init(spaced: Bool = false, reversed: Bool = false) {
        self.spaced = spaced
        self.reversed = reversed
    }

    /// One field: its name and its value already written as JSON, or nil when it is omitted.
    package typealias Field = (name: String, json: String?)

    package func object(_ fields: [Field]) -> String {
        var present = fields.compactMap { field in field.json.map { (field.name, $0) } }
        if reversed { present.reverse() }
        let body = present.map { "\(Self.quoted($0.0))\(spaced ? " : " : ":")\($0.1)" }.joined(
            separator: spaced ? " , " : ",")
        return spaced ? "{ \(body) }" : "{\(body)}"
    }

    package func array(_ elements: [String]) -> String {
        spaced ? "[ \(elements.joined(separator: " , ")) ]" : "[\(elements.joined(separator: ","))]"
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped, everything
    /// else as is.
    package static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
