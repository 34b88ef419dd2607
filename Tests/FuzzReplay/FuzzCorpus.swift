public import Foundation

/// The committed inputs of the package's fuzz targets, for the unit tests that replay them
/// through the same harness the libFuzzer target runs: `Fuzz/corpus/<target>/` (the seeds) and
/// `Fuzz/Regressions/<target>/` (every input that once found a bug).
public enum FuzzCorpus {
    /// The repository's `Fuzz` folder, found from this file's place in the tree.
    public static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    /// The seed corpus of `target`, sorted by name.
    public static func seeds(of target: String) -> [URL] { files(in: "corpus/\(target)") }

    /// The committed regressions of `target`, sorted by name.
    public static func regressions(of target: String) -> [URL] { files(in: "Regressions/\(target)") }

    /// Seeds and regressions of `target`.
    public static func inputs(of target: String) -> [URL] { regressions(of: target) + seeds(of: target) }

    /// Runs `harness` on the bytes of `file`; returns the harness's failure after the file's
    /// name, or nil when every check held.
    public static func failure(replaying file: URL, through harness: (UnsafeRawBufferPointer) -> String?) throws
        -> String?
    {
        try Data(contentsOf: file).withUnsafeBytes { harness($0) }.map { "\(file.lastPathComponent): \($0)" }
    }

    private static func files(in folder: String) -> [URL] {
        let folder = directory.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { folder.appendingPathComponent($0) }
    }
}
