import ArgumentParser
import BeaconCommandLine

/// A duration option (`--period 5s`, `--duration 1.5h`), read by ``DurationParser``: digits with
/// an optional fraction and one unit (ms, s, m, h), in whole milliseconds up to 1000000000s.
struct DurationArgument: ExpressibleByArgument {
    var value: Duration

    init(_ value: Duration) {
        self.value = value
    }

    init?(argument: String) {
        guard let value = try? DurationParser.parse(argument) else { return nil }
        self.value = value
    }

    /// Help shows a default the way it is typed: `(default: 5s)`.
    var defaultValueDescription: String { DurationParser.format(value) }
}
