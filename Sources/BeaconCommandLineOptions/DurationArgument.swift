import ArgumentParser
import BeaconCommandLine

/// The one duration option type of both tools (`--period 5s`, `--duration 1.5h`), read by
/// ``DurationParser``: digits with an optional fraction and one unit (ms, s, m, h), in whole
/// milliseconds (or microseconds, where an option asks for them) up to 1000000000s.
///
/// Declared plainly (`@Option var period = DurationArgument(.seconds(5))`) it accepts the whole
/// range and ArgumentParser shows the default as it is typed, `(default: 5s)`; with
/// `transform: OptionValue.duration(in:).parse` it accepts an option's own range, a refusal says
/// why, and ``OptionRange/help(_:default:_:)`` writes the default the same way.
package struct DurationArgument: ExpressibleByArgument, CustomStringConvertible, Hashable, Sendable {
    package var value: Duration

    package init(_ value: Duration) {
        self.value = value
    }

    package init?(argument: String) {
        guard let value = try? DurationParser.parse(argument) else { return nil }
        self.value = value
    }

    package var description: String { DurationParser.format(value) }

    package var defaultValueDescription: String { description }
}
