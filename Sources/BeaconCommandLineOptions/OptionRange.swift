package import ArgumentParser

/// What one option accepts, made by ``OptionValue``: the parser for `@Option(transform:)`, the
/// range as help and refusals write it, and the way a value of it is typed, from which its
/// help text is built, default included.
///
/// ArgumentParser shows no default for an option read through `transform:`, so the help text
/// says it; building that text here from the same constant the property starts from keeps the
/// two from disagreeing:
///
/// ```swift
/// static let workerCount = OptionValue.integer(in: 1...10_000_000)
/// static let defaultWorkers = 100_000
/// @Option(help: workerCount.help("Workers", default: defaultWorkers), transform: workerCount.parse)
/// var workers = defaultWorkers
/// ```
package struct OptionRange<Value: Sendable>: Sendable, CustomStringConvertible {
    /// What the option accepts: `1...100`, `100ms...24h`, `[0, 1]`, `one of alpha, rr`.
    package let description: String
    /// Reads an option's text while the command line is parsed; a refusal comes out as
    /// ArgumentParser's exit-64 error naming the option, the text and what is accepted.
    package let parse: @Sendable (String) throws -> Value
    /// A value as a user types it: `5s`, `1000`, `0.95`.
    private let format: @Sendable (Value) -> String

    package init(
        description: String, parse: @escaping @Sendable (String) throws -> Value,
        typed: @escaping @Sendable (Value) -> String
    ) {
        self.description = description
        self.parse = parse
        self.format = typed
    }

    /// "`abstract`, `range` (default: `value` as typed)." followed by `detail`, for an option
    /// that starts from `value`.
    package func help(_ abstract: String, default value: Value, _ detail: String? = nil) -> ArgumentHelp {
        help(abstract, absent: format(value), detail)
    }

    /// "`abstract`, `range` (default: `absent`)." followed by `detail`, for an option without a
    /// value of its own when not given: `absent` says what happens then ("until interrupted").
    package func help(_ abstract: String, absent: String, _ detail: String? = nil) -> ArgumentHelp {
        ArgumentHelp("\(abstract), \(description) (default: \(absent))." + (detail.map { " " + $0 } ?? ""))
    }
}
