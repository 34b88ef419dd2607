import Foundation

/// Loads an HTML report in headless Chromium with a script that measures every chart as laid out
/// and writes what it finds into the page, which Chromium then prints (`--dump-dom`).
enum BrowserChartCheck {
    /// What the script found in one page.
    struct Findings: Decodable {
        /// SVG charts on the page.
        var charts: Int
        /// Drawn marks (non-zero size) per chart, in page order.
        var marks: [Int]
        /// Every problem, one sentence each, naming the chart; empty for a good page.
        var problems: [String]
    }

    enum Failure: Error, CustomStringConvertible {
        case noFindings(String)

        var description: String {
            switch self {
            case .noFindings(let output): "Chromium printed no findings; its output began: \(output.prefix(400))"
            }
        }
    }

    /// Chromium on the PATH (Debian's `chromium` package), or nil.
    static let executable: URL? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser"] {
                let url = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            }
        }
        return nil
    }()

    /// Whether the browser tests run: always in CI (where a missing Chromium is a failure), and
    /// locally when Chromium is installed.
    static var shouldRun: Bool { executable != nil || ProcessInfo.processInfo.environment["CI"] != nil }

    /// The checks, run once the page has loaded. Marks are the elements of class `mark` (on a page
    /// that declares a plot area) or every shape (on one that does not); each chart needs at least
    /// one drawn mark, every drawn mark inside the plot area, and every text label inside the SVG
    /// and clear of every other label.
    static let script = """
        <script>
        window.addEventListener('load', function () {
          var problems = [], marks = [];
          var svgs = Array.prototype.slice.call(document.querySelectorAll('svg'));
          function clientBox(element) { return element.getBoundingClientRect(); }
          svgs.forEach(function (svg, index) {
            var name = svg.getAttribute('aria-label') || ('chart ' + (index + 1));
            var outer = clientBox(svg), style = getComputedStyle(svg);
            var inner = {
              left: outer.left + parseFloat(style.borderLeftWidth), top: outer.top + parseFloat(style.borderTopWidth),
              right: outer.right - parseFloat(style.borderRightWidth), bottom: outer.bottom - parseFloat(style.borderBottomWidth)
            };
            var area = svg.querySelector('.plot-area');
            if (!area) problems.push(name + ': no plot area (an element of class plot-area)');
            var plot = area ? clientBox(area) : inner;
            var shapes = area ? svg.querySelectorAll('.mark') : svg.querySelectorAll('rect, circle, ellipse, path, polyline, polygon');
            var drawn = 0;
            Array.prototype.forEach.call(shapes, function (shape) {
              var box = clientBox(shape), tag = shape.tagName.toLowerCase();
              var lineLike = tag === 'polyline' || tag === 'path' || tag === 'line';
              var visible = lineLike ? (box.width > 0.5 || box.height > 0.5) : (box.width > 0.5 && box.height > 0.5);
              if (!visible) return;
              drawn += 1;
              if (box.left < plot.left - 1 || box.right > plot.right + 1 || box.top < plot.top - 1 || box.bottom > plot.bottom + 1) {
                problems.push(name + ': a ' + tag + ' mark lies outside the plot area (' + Math.round(box.left - inner.left) + ','
                  + Math.round(box.top - inner.top) + ' ' + Math.round(box.width) + 'x' + Math.round(box.height) + ')');
              }
            });
            marks.push(drawn);
            if (drawn === 0) problems.push(name + ': no drawn marks (the chart is empty)');
            if (outer.height < 40) problems.push(name + ': only ' + Math.round(outer.height) + ' px tall');
            var texts = Array.prototype.slice.call(svg.querySelectorAll('text')).filter(function (text) {
              return text.textContent.trim().length > 0;
            });
            var boxes = texts.map(clientBox);
            texts.forEach(function (text, i) {
              var box = boxes[i];
              if (box.left < inner.left - 0.5 || box.right > inner.right + 0.5 || box.top < inner.top - 0.5 || box.bottom > inner.bottom + 0.5) {
                problems.push(name + ': label "' + text.textContent + '" is cut off by the chart\\'s edge');
              }
              for (var j = 0; j < i; j++) {
                var other = boxes[j];
                var overlapX = Math.min(box.right, other.right) - Math.max(box.left, other.left);
                var overlapY = Math.min(box.bottom, other.bottom) - Math.max(box.top, other.top);
                if (overlapX > 1 && overlapY > 1) {
                  problems.push(name + ': label "' + text.textContent + '" overlaps label "' + texts[j].textContent + '"');
                }
              }
            });
          });
          var out = document.createElement('pre');
          out.id = 'chart-check';
          out.textContent = JSON.stringify({ charts: svgs.length, marks: marks, problems: problems });
          document.body.appendChild(out);
        });
        </script>
        """

    /// `html` with the script, loaded in Chromium from a temporary file.
    static func check(_ html: String, chromium: URL) throws -> Findings {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "beacon-browser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let page = folder.appendingPathComponent("report.html")
        let marked =
            html.contains("</body>")
            ? html.replacingOccurrences(of: "</body>", with: script + "</body>") : html + script
        try marked.write(to: page, atomically: true, encoding: .utf8)
        let output = try run(chromium, folder: folder, ["--dump-dom", page.absoluteString])
        guard let start = output.range(of: "<pre id=\"chart-check\">"),
            let end = output.range(of: "</pre>", range: start.upperBound..<output.endIndex)
        else { throw Failure.noFindings(output) }
        let json = output[start.upperBound..<end.lowerBound].replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
        return try JSONDecoder().decode(Findings.self, from: Data(json.utf8))
    }

    /// Runs headless Chromium with a profile of its own under `folder` (so runs in parallel do
    /// not share one), at most 60 s (`timeout` kills a browser that hangs), and returns stdout.
    static func run(_ chromium: URL, folder: URL, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments =
            [
                "60", chromium.path, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                "--user-data-dir=\(folder.appendingPathComponent("profile").path)", "--virtual-time-budget=10000",
            ] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
