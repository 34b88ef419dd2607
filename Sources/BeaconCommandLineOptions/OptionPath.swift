package import ArgumentParser
import Foundation

/// The checks both tools make of paths on their command lines, while the line is parsed, so a
/// typo is an exit-64 message naming the option. Missing folders are never created: a mistyped
/// path would otherwise leave a tree of new folders behind.
package enum OptionPath {
    /// A file the command will write: not empty, not a folder, in a folder that exists. `kind`
    /// names what the file is for, in the message ("a SQLite file").
    package static func checkFile(_ path: String, option: String, kind: String = "a file") throws(ValidationError) {
        let expected = "expected \(kind) in an existing folder"
        guard !path.isEmpty else { throw ValidationError("\(option): the path is empty; \(expected)") }
        guard !path.hasSuffix("/"), !isFolder(path) else {
            throw ValidationError("\(option): '\(path)' is a folder; \(expected)")
        }
        try checkParent(of: path, option: option)
    }

    /// A folder for the command's files: one that exists, or a new one in a folder that exists.
    package static func checkFolder(_ path: String, option: String) throws(ValidationError) {
        guard !path.isEmpty else { throw ValidationError("\(option): the path is empty; expected a folder") }
        if FileManager.default.fileExists(atPath: path) {
            guard isFolder(path) else { throw ValidationError("\(option): '\(path)' exists and is not a folder") }
            return
        }
        try checkParent(of: path, option: option)
    }

    /// A file the process can read; `kind` names what it should hold ("a readable PEM file").
    package static func checkReadable(_ path: String, option: String, kind: String) throws(ValidationError) {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ValidationError("\(option): cannot read '\(path)'; expected \(kind)")
        }
    }

    /// Whether `path` names an existing folder.
    package static func isFolder(_ path: String) -> Bool {
        var folder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &folder) && folder.boolValue
    }

    private static func checkParent(of path: String, option: String) throws(ValidationError) {
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard isFolder(parent) else {
            throw ValidationError(
                "\(option): the folder '\(parent)' does not exist (it is not created); give a path in an existing folder"
            )
        }
    }
}
