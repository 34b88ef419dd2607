import ArgumentParser
import BeaconCommandLineOptions
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where the tool's SQLite files go. Paths are checked while the command line is parsed, so a
/// typo is an exit-64 message naming the option; missing parent folders are never created,
/// since a mistyped path would otherwise leave a tree of new folders behind.
enum DatabasePath {
    /// A database file's path: not empty, not a folder, in a folder that exists.
    static func check(_ path: String, option: String) throws(ValidationError) {
        guard !path.isEmpty else {
            throw ValidationError("\(option): the path is empty; expected a SQLite file in an existing folder")
        }
        guard !isFolder(path) else {
            throw ValidationError("\(option): '\(path)' is a folder; expected a SQLite file in an existing folder")
        }
        try checkParent(of: path, option: option)
    }

    /// A folder for the tool's files: one that exists, or a new one in a folder that exists.
    static func checkFolder(_ path: String, option: String) throws(ValidationError) {
        guard !path.isEmpty else { throw ValidationError("\(option): the path is empty; expected a folder") }
        if FileManager.default.fileExists(atPath: path) {
            guard isFolder(path) else { throw ValidationError("\(option): '\(path)' exists and is not a folder") }
            return
        }
        try checkParent(of: path, option: option)
    }

    /// Creates the folder `path` unless it exists (its parent must: see ``checkFolder(_:option:)``).
    static func makeFolder(_ path: String, option: String) throws(ExitCode) {
        guard !isFolder(path) else { return }
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

    private static func checkParent(of path: String, option: String) throws(ValidationError) {
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard isFolder(parent) else {
            throw ValidationError(
                "\(option): the folder '\(parent)' does not exist (it is not created); give a path in an existing folder"
            )
        }
    }

    private static func isFolder(_ path: String) -> Bool {
        var folder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &folder) && folder.boolValue
    }
}
