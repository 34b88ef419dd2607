import BeaconCommandLine

/// The ranges `serve` and `loadgen` share, so a value one accepts the other accepts too
/// (`loadgen --period` must repeat `serve --period`).
enum ServiceOptionRange {
    /// A heartbeat period: at most an hour, so a silent node is noticed within a day at the
    /// largest grace.
    static let periods = Duration.milliseconds(1) ... .seconds(3600)
    /// A jitter, before the check that it is below the period.
    static let jitters = Duration.zero ... .seconds(3600)
    /// A grace multiplier.
    static let grace = DecimalRange(from: FixedDecimal(millionths: 1_000_000), through: FixedDecimal(millionths: 100_000_000))
    /// A fraction.
    static let fraction = DecimalRange(from: FixedDecimal(millionths: 0), through: FixedDecimal(millionths: 1_000_000))
}
