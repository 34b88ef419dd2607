import Foundation
import Testing

/// Every Swift code block of every documentation catalog (`Sources/*/*.docc/**/*.md`) is code a
/// test compiles and runs: its code appears in one file under `Tests/`, compared token by token,
/// so layout aside (indentation, line breaks, trailing commas, `import` lines): swift-format wraps
/// a test's lines at its nesting depth, an article's at the margin. An article edited without its
/// test, or a test edited without its article, fails here.
@Suite struct DocCatalogDocsExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func everyCatalogSnippetIsTestedCode() throws {
        let articles = try Self.files(under: "Sources", extension: "md").filter { $0.path.contains(".docc/") }
        #expect(!articles.isEmpty, "no documentation catalog found under \(Self.root.path)/Sources")
        let tests = try Self.files(under: "Tests", extension: "swift").map {
            try Self.code(of: String(contentsOf: $0, encoding: .utf8))
        }
        var snippets = 0
        for article in articles {
            for block in Self.swiftBlocks(in: try String(contentsOf: article, encoding: .utf8)) {
                snippets += 1
                let code = Self.code(of: block)
                let found = !code.isEmpty && tests.contains { $0.contains(code) }
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

    /// The code without its layout: `import` lines, whitespace and trailing commas dropped.
    static func code(of text: String) -> String {
        let lines = text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("import ") }
        let compact = String(
            String.UnicodeScalarView(
                lines.joined(separator: "\n").unicodeScalars.filter {
                    !CharacterSet.whitespacesAndNewlines.contains($0)
                }))
        return compact.replacingOccurrences(of: ",)", with: ")").replacingOccurrences(of: ",]", with: "]")
    }
}
