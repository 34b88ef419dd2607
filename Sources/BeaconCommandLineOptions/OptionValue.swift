package import BeaconCommandLine

/// The kinds of value an option takes, each as an ``OptionRange``: its text is checked while
/// the command line is parsed, and a refusal comes out as ArgumentParser's exit-64 error naming
/// the option, the text, and what is accepted ("The value '0s' is invalid for '--ttl <ttl>':
/// '0s' is out of range; expected a duration from 100ms to 24h: …").
package enum OptionValue {
    /// A whole number in `range` (``IntegerParser``), described as `1...100`.
    package static func integer(in range: ClosedRange<Int>) -> OptionRange<Int> {
        OptionRange(
            description: "\(range)", parse: { text in try IntegerParser.parse(text, in: range) }, typed: { "\($0)" })
    }

    /// A duration in `range` (``DurationParser``), in whole steps of `resolution`, described as
    /// `100ms...24h`.
    package static func duration(
        in range: ClosedRange<Duration>, resolution: DurationParser.Resolution = .millisecond
    ) -> OptionRange<DurationArgument> {
        OptionRange(
            description: "\(DurationParser.format(range.lowerBound))...\(DurationParser.format(range.upperBound))",
            parse: { text in DurationArgument(try DurationParser.parse(text, in: range, resolution: resolution)) },
            typed: { $0.description })
    }

    /// A decimal number in `range` (``DecimalParser``) as the nearest `Double`, described as
    /// `(0, 1.5]`.
    package static func decimal(in range: DecimalRange) -> OptionRange<Double> {
        OptionRange(
            description: "\(range)", parse: { text in try DecimalParser.parse(text, in: range).doubleValue },
            typed: { "\(FixedDecimal(nearest: $0))" })
    }

    /// One of `known`, spelled exactly, described as `one of alpha, rr`.
    package static func name(from known: [String]) -> OptionRange<String> {
        OptionRange(
            description: "one of \(known.joined(separator: ", "))",
            parse: { text in
                guard let name = known.first(where: { $0.utf8.elementsEqual(text.utf8) }) else {
                    throw CommandLineValueError.unknownName(text, known: known)
                }
                return name
            }, typed: { $0 })
    }
}
