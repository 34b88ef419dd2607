import Foundation
import Testing

/// Every Swift code block of every documentation catalog (`Sources/*/*.docc/**/*.md`) is code a
/// test compiles and runs: its lines, indentation and `import` lines aside, appear in this order
/// and without gaps in one file under `Tests/`. An article edited without its test, or a test
/// edited without its article, fails here.
@Suite struct DocCatalogDocsExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func everyCatalogSnippetIsTestedCode() throws {
        let articles = try Self.files(under: "Sources", extension: "md").filter { $0.path.contains(".docc/") }
        #expect(!articles.isEmpty, "no documentation catalog found under \(Self.root.path)/Sources")
        let tests = try Self.files(under: "Tests", extension: "swift").map { try Self.codeLines(of: String(contentsOf: $0, encoding: .utf8)) }
        var snippets = 0
        for article in articles {
            for block in Self.swiftBlocks(in: try String(contentsOf: article, encoding: .utf8)) {
                snippets += 1
                let lines = Self.codeLines(of: block)
                let found = tests.contains { Self.contains($0, run: lines) }
                #expect(found, "\(article.path): this snippet is not in any file under Tests/:\n\(block)")
            }
        }
        #expect(snippets > 0)
    }

    /// Files under `folder` (relative to the package root) whose names end in `.extension`.
    static func files(under folder: String, extension: String) throws -> [URL] {
        let base = root.appendingPathComponent(folder)
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == `extension` }
    }

    /// The contents of each ```` ```swift ```` fence.
    static func swiftBlocks(in markdown: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current == nil, trimmed == "```swift" {
                current = []
            } else if current != nil, trimmed == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    /// Lines without their indentation, blank and `import` lines dropped.
    static func codeLines(of text: String) -> [String] {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("import ") }
    }

    /// Whether `run` occurs in `lines` as consecutive elements.
    static func contains(_ lines: [String], run: [String]) -> Bool {
        guard !run.isEmpty, run.count <= lines.count else { return run.isEmpty }
        return (0 ... lines.count - run.count).contains { start in lines[start ..< start + run.count].elementsEqual(run) }
    }
}
