import ArgumentParser
import BeaconCommandLineOptions
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where the tool's SQLite files go: folders made only where the command line named a new one in
/// an existing folder (`OptionPath` checks that while the line is parsed), or in the system's
/// temporary folder.
enum DatabasePath {
    /// Creates the folder `path` unless it exists (its parent must: see `OptionPath.checkFolder`).
    static func makeFolder(_ path: String, option: String) throws(ExitCode) {
        guard !OptionPath.isFolder(path) else { return }
        guard mkdir(path, 0o755) == 0 else {
            throw OptionFailure.report(
                "\(option): cannot create the folder '\(path)': \(String(cString: strerror(errno)))")
        }
    }

    /// A new, empty folder in the system's temporary folder, named after `prefix`.
    static func makeTemporaryFolder(prefix: String) throws(ExitCode) -> String {
        var template = Array((FileManager.default.temporaryDirectory.path + "/\(prefix)-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw OptionFailure.report("cannot create a temporary folder: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }

}
