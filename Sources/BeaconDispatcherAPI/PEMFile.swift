#if GRPC
import Foundation

/// Reads the PEM files of both ends' TLS settings, so a file that cannot be read gives each
/// side's own typed error with the same explanation.
package enum PEMFile {
    /// The file's text; `failure` makes the error from the reason it could not be read.
    package static func read<Failure: Error>(
        _ path: String, failure: (_ reason: String) -> Failure
    ) throws(Failure) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw failure(error.localizedDescription)
        }
    }
}
#endif
