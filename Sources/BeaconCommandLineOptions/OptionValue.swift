import ArgumentParser
package import BeaconCommandLine

/// Parsers for `@Option(transform:)`: the option's text is checked while the command line is
/// parsed, and a refusal comes out as ArgumentParser's exit-64 error naming the option, the
/// text, and what is accepted ("The value '0s' is invalid for '--ttl <ttl>': '0s' is out of
/// range; expected a duration from 100ms to 24h: …").
///
/// ```swift
/// static let workerCount = 1...10_000_000
/// @Option(help: "Workers, \(workerCount).", transform: OptionValue.integer(in: workerCount))
/// var workers = 100_000
/// ```
package enum OptionValue {
    /// A whole number in `range` (``IntegerParser``).
    package static func integer(in range: ClosedRange<Int>) -> @Sendable (String) throws -> Int {
        { text in try IntegerParser.parse(text, in: range) }
    }

    /// A duration in `range` (``DurationParser``).
    package static func duration(in range: ClosedRange<Duration>) -> @Sendable (String) throws -> DurationArgument {
        { text in DurationArgument(try DurationParser.parse(text, in: range)) }
    }

    /// A decimal number in `range` (``DecimalParser``), as the nearest `Double`.
    package static func decimal(in range: DecimalRange) -> @Sendable (String) throws -> Double {
        { text in try DecimalParser.parse(text, in: range).doubleValue }
    }

    /// One of `known`, spelled exactly.
    package static func name(from known: [String]) -> @Sendable (String) throws -> String {
        { text in
            guard let name = known.first(where: { $0.utf8.elementsEqual(text.utf8) }) else {
                throw CommandLineValueError.unknownName(text, known: known)
            }
            return name
        }
    }

    /// `range` as help texts write it: `100ms...24h`.
    package static func describe(_ range: ClosedRange<Duration>) -> String {
        "\(DurationParser.format(range.lowerBound))...\(DurationParser.format(range.upperBound))"
    }
}
