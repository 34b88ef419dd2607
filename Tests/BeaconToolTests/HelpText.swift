import Foundation
import Testing

/// A command's `--help`, with its line wrapping undone so a phrase can be looked for whole.
enum HelpText {
    static func of(_ tool: String, _ command: [String]) async throws -> String {
        let outcome = try await ToolProcess.run(tool, command + ["--help"])
        #expect(outcome.exitCode == 0 && !outcome.signalled, "\(tool) \(command) --help: \(outcome.standardError)")
        return outcome.standardOutput.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

/// Every option of every command of both tools that has a default says it in `--help`, as it
/// is typed: `5s`, `1000`, `0.95`, never the struct dump `DurationArgument(value: 60.0 seconds)`,
/// `60.0 seconds` or `3.0`. ArgumentParser writes the default of a plainly declared option itself
/// (the dump's `defaultValue`) but not of one read through `transform:`, whose help must then
/// carry `(default: …)`; an option without a value of its own says there what happens when it
/// is not given (`(default: until killed)`). The commands are read from the tool's own
/// `--experimental-dump-help`, so a command or option added later is checked too.
@Suite struct HelpDefaultsTests {
    /// The parts of ArgumentParser's help dump this test reads.
    struct Command: Decodable {
        let commandName: String
        let arguments: [Argument]?
        let subcommands: [Command]?
    }

    struct Argument: Decodable {
        struct Name: Decodable { let name: String }
        let kind: String
        let isOptional: Bool
        let preferredName: Name?
        let defaultValue: String?
        let abstract: String?
    }

    struct Dump: Decodable { let command: Command }

    /// Every option of `command` and its subcommands that may be left out: its command path,
    /// name, and the default its help shows (nil when it shows none).
    static func optionalOptions(of command: Command, path: [String] = []) -> [(option: String, shownDefault: String?)] {
        let own = (command.arguments ?? []).filter { $0.kind == "option" && $0.isOptional }.map { argument in
            let name = (path + ["--" + (argument.preferredName?.name ?? "?")]).joined(separator: " ")
            let help = argument.abstract ?? ""
            let written = help.range(of: "(default: ").map { String(help[$0.upperBound...].prefix { $0 != ")" }) }
            return (name, argument.defaultValue ?? written)
        }
        return own + (command.subcommands ?? []).flatMap { optionalOptions(of: $0, path: path + [$0.commandName]) }
    }

    @Test(arguments: [("beacon", 60), ("beacon-master-worker", 14)])
    func everyOptionShowsItsDefaultAsTyped(_ tool: String, _ atLeast: Int) async throws {
        let outcome = try await ToolProcess.run(tool, ["--experimental-dump-help"])
        #expect(outcome.exitCode == 0 && !outcome.signalled, "\(outcome.standardError)")
        let dump = try JSONDecoder().decode(Dump.self, from: Data(outcome.standardOutput.utf8))
        let options = Self.optionalOptions(of: dump.command)
        // The dump is read, not skipped: both tools have many options.
        #expect(options.count >= atLeast, "\(tool): only \(options.count) options in the help dump")
        for (option, shown) in options {
            guard let shown else {
                Issue.record("\(tool) \(option): --help shows no default; end its help with (default: …)")
                continue
            }
            #expect(!shown.isEmpty, "\(tool) \(option): an empty default")
            #expect(
                !shown.contains("DurationArgument(") && !shown.contains(" seconds"),
                "\(tool) \(option): default '\(shown)'")
            #expect(shown.wholeMatch(of: /[0-9]+\.0/) == nil, "\(tool) \(option): default '\(shown)' is not as typed")
        }
    }
}
