package import ArgumentParser
import BeaconCommandLine

/// An option that proves wrong only once the command runs (a folder that cannot be created, a
/// choice ArgumentParser would otherwise report before an unknown option): reported like a
/// parse error, exit 64, but without the usage line, which at that point names only the root
/// command.
package enum OptionFailure {
    /// Prints `Error: <message>` on standard error and returns the exit-64 code to throw.
    package static func report(_ message: String) -> ExitCode {
        LineOutput.standardError.write("Error: \(message)")
        return .validationFailure
    }
}
