import BeaconReports
import Foundation
import Testing

/// Every HTML report, loaded in headless Chromium: each chart has drawn marks inside its plot
/// area, and no label is cut off by its chart's edge or drawn over another label. Reports that
/// take long in a debug build (heartbeat, diff) are rendered from fixtures of real runs; the others
/// come from the tool run with small inputs. Without Chromium the tests are skipped, except in
/// CI (the `CI` variable set), where they fail.
@Suite(.enabled(if: BrowserChartCheck.shouldRun, "Chromium is not installed (Debian: apt-get install chromium)"))
struct BrowserReportTests {
    /// A report page and how many charts it must show.
    enum Report: String, CaseIterable, CustomTestStringConvertible {
        case benchPlacers, benchPlacement, simulateDispatcher, benchDiff, benchHeartbeat

        var testDescription: String { rawValue }

        /// The tool's arguments, for the reports the tool renders quickly.
        var arguments: [String]? {
            switch self {
            case .benchPlacers:
                [
                    "bench", "placers", "--members", "10,100", "--keys", "2048", "--repeats", "1", "--no-parallel",
                    "--format", "html",
                ]
            case .benchPlacement:
                [
                    "bench", "placement", "--runners", "10", "--utilisation", "0.5,0.9", "--duration", "2s",
                    "--functions", "100",
                    "--overhead-calls", "1000", "--format", "html",
                ]
            case .simulateDispatcher:
                [
                    "simulate", "dispatcher", "--virtual-time", "--nodes", "1000", "--duration", "30s", "--format",
                    "html",
                ]
            case .benchDiff, .benchHeartbeat:
                nil
            }
        }

        /// Charts the page draws: placers two (latency, load spread); placement four per runner
        /// count; the sectioned reports one per section with a shared unit.
        var charts: Int {
            switch self {
            case .benchPlacers: 2
            case .benchPlacement: 4
            case .simulateDispatcher: 3
            case .benchDiff: 4
            case .benchHeartbeat: 3
            }
        }

        func html() async throws -> String {
            if let arguments {
                let outcome = try await ToolProcess.run("beacon", arguments, timeout: .seconds(60))
                #expect(
                    outcome.exitCode == 0 && !outcome.signalled,
                    "\(ToolProcess.commandLine("beacon", arguments)): \(outcome.standardError)")
                return outcome.standardOutput
            }
            let json = self == .benchDiff ? BrowserReportFixtures.diff : BrowserReportFixtures.heartbeat
            return try JSONDecoder().decode(BenchReport.self, from: Data(json.utf8)).html()
        }
    }

    @Test(arguments: Report.allCases)
    func everyChartIsDrawnInsideItsPlotAreaWithReadableLabels(_ report: Report) async throws {
        let chromium = try #require(
            BrowserChartCheck.executable, "CI is set, so the browser test must run: install Debian's chromium")
        let findings = try BrowserChartCheck.check(try await report.html(), chromium: chromium)
        #expect(findings.charts == report.charts, "\(report): \(findings.charts) charts")
        #expect(findings.problems.isEmpty, "\(report): \(findings.problems.joined(separator: "\n"))")
        #expect(findings.marks.allSatisfy { $0 > 0 })
    }

    /// The check itself fails a bad page: the diff page before this fix (its only chart drew the
    /// µs figures as nanoseconds: no bar, 10 px tall), a mark outside its plot area, a label
    /// cut off on the left, and two labels on top of each other.
    @Test func theCheckFailsEmptyChartsStrayMarksAndClippedOrOverlappingLabels() throws {
        let chromium = try #require(
            BrowserChartCheck.executable, "CI is set, so the browser test must run: install Debian's chromium")
        let oldDiffPage = """
            <!doctype html><html><body><h1>Beacon: Task diff benchmark</h1>
            <h2>diff of two sets (merge walk, storage reused)</h2>
            <svg xmlns="http://www.w3.org/2000/svg" width="720" height="10" font-size="11">
            </svg></body></html>
            """
        let empty = try BrowserChartCheck.check(oldDiffPage, chromium: chromium)
        #expect(empty.charts == 1)
        #expect(empty.marks == [0])
        #expect(empty.problems.contains { $0.contains("no drawn marks") })

        let chart = BarChart(
            title: "bad", axisLabel: "ns",
            bars: [
                .init(
                    label: "1000000 nodes, 2 threads (wall time per beat)", value: 3, valueLabel: "3 ns",
                    colour: ChartPalette.neutral)
            ])
        var svg = chart.svg()
        // Pushes every label 200 px left (the old heartbeat page's cut-off labels), adds a bar
        // beyond the plot area's right edge and a label over another.
        svg = svg.replacingOccurrences(
            of: "text-anchor=\"end\"", with: "text-anchor=\"end\" transform=\"translate(-200 0)\"")
        svg = svg.replacingOccurrences(
            of: "</svg>",
            with: "<rect class=\"mark\" x=\"5000\" y=\"20\" width=\"10\" height=\"10\"/>"
                + "<text x=\"300\" y=\"40\">overlap</text><text x=\"310\" y=\"42\">overlap</text></svg>")
        let bad = try BrowserChartCheck.check("<html><body>\(svg)</body></html>", chromium: chromium)
        #expect(bad.problems.contains { $0.contains("outside the plot area") })
        #expect(bad.problems.contains { $0.contains("cut off") })
        #expect(bad.problems.contains { $0.contains("overlaps") })
    }
}
