import ArgumentParser
import BeaconReports

/// The formats every report command prints.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, html
}

/// `--format table|json|html`, shared by the benchmark and simulation commands.
struct ReportFormatOption: ParsableArguments {
    @Option(help: "Output format: table, json or html.")
    var format: ReportFormat = .table
}

extension BenchReport {
    /// The report in the format asked for on the command line.
    func rendered(as format: ReportFormat) throws -> String {
        switch format {
        case .table: table()
        case .json: try json()
        case .html: html()
        }
    }
}
