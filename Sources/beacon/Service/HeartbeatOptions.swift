import ArgumentParser
import BeaconCommandLine
import BeaconCommandLineOptions
import BeaconDispatcher

/// `--period`, `--jitter` and `--grace`: the heartbeat settings `serve` runs with and `loadgen`
/// must be given the same values of, declared once so both accept the same values and start
/// from the same defaults.
struct HeartbeatOptions: ParsableArguments {
    /// A heartbeat period: at most an hour. Together with the grace it is held to the
    /// dispatcher's longest deadline as well (`validate()`).
    static let periods = OptionValue.duration(in: .milliseconds(1)...(.seconds(3600)))
    /// A jitter, before the check that it is below the period.
    static let jitters = OptionValue.duration(in: .zero...(.seconds(3600)))
    static let graces = OptionValue.decimal(in: DecimalRange(from: 1, through: 100))
    static let defaultPeriod = DurationArgument(.seconds(5))
    static let defaultJitter = DurationArgument(.milliseconds(500))
    static let defaultGrace = 3.0

    @Option(
        help: Self.periods.help(
            "Heartbeat period (5s, 500ms, 1m)", default: Self.defaultPeriod, "Give loadgen the value serve runs with."),
        transform: Self.periods.parse)
    var period = Self.defaultPeriod

    @Option(
        help: Self.jitters.help(
            "Heartbeat jitter: each period is drawn within ± this", default: Self.defaultJitter,
            "Below --period; give loadgen the value serve runs with."),
        transform: Self.jitters.parse)
    var jitter = Self.defaultJitter

    @Option(
        help: Self.graces.help(
            "Grace: a node is marked DOWN after period × grace without a heartbeat", default: Self.defaultGrace,
            "Give loadgen the value serve runs with."),
        transform: Self.graces.parse)
    var grace = Self.defaultGrace

    /// Refuses a jitter that is not below the period (each period is drawn within ± the jitter,
    /// and must stay positive), and settings the dispatcher would refuse at start: a node's
    /// longest deadline, (period + jitter) × twice the grace for a node not heard from since a
    /// leader change, must fit the heartbeat wheel (about 71 minutes).
    func validate() throws {
        guard jitter.value < period.value else {
            let expected = "a duration below --period (\(period))"
            throw ValidationError(
                "--jitter: \(CommandLineValueError.outOfRange(jitter.description, expected: expected))")
        }
        var configuration = DispatcherConfiguration()
        configuration.heartbeatPeriod = period.value
        configuration.heartbeatJitter = jitter.value
        configuration.graceMultiplier = grace
        do {
            try configuration.validate()
        } catch {
            throw ValidationError(
                "--period \(period), --jitter \(jitter) and --grace \(grace) do not go together: \(error)")
        }
    }
}
