import ArgumentParser

/// `--format table|json|html`, shared by the benchmark commands that render every format.
struct ReportFormatOption: ParsableArguments {
    @Option(help: "Output format: table, json or html.")
    var format: BenchPlacers.Format = .table
}
