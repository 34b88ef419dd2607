import Foundation

/// Writes a progress line to standard error, so standard output holds only the report.
func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
