/// A simulation that ran but found problems (a false DOWN, a node never detected, a missed
/// bound). Thrown from `run()`, it ends the command with exit code 1 and the problems on
/// standard error, after the report: a failed run, not a mistake on the command line, which
/// ArgumentParser's `ValidationError` would report with exit code 64 and the usage line.
struct SimulationFailed: Error, CustomStringConvertible {
    let problems: [String]

    var description: String { "simulation found problems: " + problems.joined(separator: "; ") }
}
