/// The frame every HTML report shares: one self-contained page, no script or external resource.
package enum HTMLPage {
    /// The start of a page, through its `<h1>`.
    package static func head(title: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
        table{border-collapse:collapse;margin:1em 0}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}
        td:first-child,th:first-child{text-align:left}svg{display:block;background:#fafafa;border:1px solid #ddd;margin:1em 0}
        .missed{color:#b00020;font-weight:bold}.note{color:#555}
        </style></head><body>
        <h1>\(escape(title))</h1>

        """
    }

    /// The end of a page.
    package static let tail = "</body></html>\n"

    /// `text` safe inside an element or a double-quoted attribute.
    package static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A table whose first row is the header.
    package static func table(_ rows: [[String]]) -> String {
        guard let header = rows.first else { return "" }
        var html = "<table><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
        for row in rows.dropFirst() {
            html += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
        }
        return html + "</table>\n"
    }
}
