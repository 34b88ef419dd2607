import Foundation
import FuzzReplay
import Testing

@testable import BeaconCommandLine

/// Replays every committed `CommandLineFuzz` input (seeds and regressions) through the same
/// harness the libFuzzer target runs, and shows the harness can fail.
@Suite struct CommandLineFuzzReplayTests {
    @Test(arguments: FuzzCorpus.inputs(of: "CommandLineFuzz"))
    func committedInput(_ file: URL) throws {
        #expect(try FuzzCorpus.failure(replaying: file, through: CommandLineFuzzHarness.run) == nil)
    }

    /// The round-trip checks report a value that is out of range or does not survive formatting.
    @Test func harnessReportsBrokenValues() {
        #expect(CommandLineFuzzHarness.roundTrip([5], in: 3...4) != nil)
        #expect(
            CommandLineFuzzHarness.roundTrip(
                [FixedDecimal(millionths: 0)],
                in: DecimalRange(above: FixedDecimal(millionths: 0), through: FixedDecimal(millionths: 1))) != nil)
        // A microsecond is written as "0s", which reads back as zero.
        #expect(CommandLineFuzzHarness.roundTrip(.microseconds(1)) != nil)
        #expect(CommandLineFuzzHarness.roundTrip(.milliseconds(1500)) == nil)
    }

    /// The model the harness compares against gives definite answers, so agreement with it means
    /// something: it accepts with the right value and refuses with the right kind.
    @Test func modelAnswers() {
        #expect(CommandLineModel.duration("1.5h") == .accepted(5_400_000))
        #expect(CommandLineModel.duration("500ms") == .accepted(500))
        #expect(CommandLineModel.duration("-5s") == .malformed)
        #expect(CommandLineModel.duration("5") == .malformed)
        #expect(CommandLineModel.duration("1000000001s") == .outOfRange)
        #expect(CommandLineModel.duration("0.5ms") == .tooPrecise)
        #expect(CommandLineModel.integers("10,,100", in: 3...1000) == .emptyElement(position: 2))
        #expect(CommandLineModel.integers("", in: 3...1000) == .empty)
        #expect(CommandLineModel.integers(" 10 ,100", in: 3...1000) == .accepted([10, 100]))
        #expect(
            CommandLineModel.decimals("0.5,1.5", in: CommandLineFuzzHarness.decimalRanges[0])
                == .accepted([500_000, 1_500_000]))
        #expect(CommandLineModel.names("maglev,jumps", from: CommandLineFuzzHarness.knownNames) == .unknownName)
    }

    /// A parser that disagrees with the model is reported: one that reads minutes as a tenth of
    /// their length, and one that forgets the upper limit.
    @Test func harnessReportsADisagreement() {
        func misScaled(_ text: Substring) throws(CommandLineValueError) -> UInt64 {
            let milliseconds = try DurationParser.milliseconds(text)
            return text.hasSuffix("m") ? milliseconds / 10 : milliseconds
        }
        func unbounded(_ text: Substring) throws(CommandLineValueError) -> UInt64 {
            text == "1000000001s" ? 1_000_000_001_000 : try DurationParser.milliseconds(text)
        }
        #expect(CommandLineFuzzHarness.checkDuration("30s", parse: misScaled) == nil)
        #expect(CommandLineFuzzHarness.checkDuration("5m", parse: misScaled) != nil)
        #expect(CommandLineFuzzHarness.checkDuration("1000000001s", parse: unbounded) != nil)
        #expect(CommandLineFuzzHarness.checkDuration("5m") == nil)
    }
}
