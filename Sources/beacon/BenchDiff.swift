import ArgumentParser
import BeaconCore
import BeaconReports
import Foundation

struct BenchDiff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract:
            "Measure task diffing: diff, encode, decode + apply, bytes on the wire against the whole set, and a split COMPLETE set."
    )

    @OptionGroup var output: ReportFormatOption

    static let payloadSizes = OptionValue.integer(in: 0...16_384)
    static let repeatCounts = OptionValue.integer(in: 1...1000)
    static let defaultPayloadBytes = 128
    static let defaultRepeats = 101

    @Option(
        help: Self.payloadSizes.help(
            "Payload bytes per assignment", default: Self.defaultPayloadBytes,
            """
            An encoded task of SwarmKit is 1-3 KiB; a reference to one, tens of bytes. The 100 000-entry sets hold several \
            copies of every payload: 16 KiB keeps them within about 8 GiB.
            """),
        transform: Self.payloadSizes.parse)
    var payloadBytes = Self.defaultPayloadBytes

    @Option(
        help: Self.repeatCounts.help(
            "Timed repeats per figure", default: Self.defaultRepeats, "The median is reported."),
        transform: Self.repeatCounts.parse)
    var repeats = Self.defaultRepeats

    func run() throws {
        let counting = AllocationCounter.isActive
        let bench = DiffBenchmark(repeats: repeats, payloadBytes: payloadBytes, countAllocations: counting)
        var report = BenchReport(
            title: "Task diff benchmark, \(payloadBytes)-byte payloads", machine: MachineDescription.current,
            allocationCounting: counting)
        var diffs = BenchReport.Section(title: "diff of two sets (merge walk, storage reused)")
        var wire = BenchReport.Section(title: "encode, decode + apply (INCREMENTAL messages, 1 MiB budget)")
        var bytes = BenchReport.Section(title: "bytes on the wire: INCREMENTAL message ÷ the whole set as COMPLETE")
        for size in [1_000, 10_000, 100_000] {
            for fraction in [0.001, 0.01, 0.1] {
                progress("\(size) assignments, \(fraction * 100) % changed")
                let figures = try bench.measure(size: size, changedFraction: fraction)
                let label = "\(size) entries, \(PercentLabel.percent(fraction)) changed"
                let isHeadline = size == 10_000 && fraction == 0.01
                diffs.add(label, figures.diffNanoseconds / 1000, "µs", atMost: isHeadline ? 30 : nil)
                if let allocations = figures.diffAllocations {
                    diffs.add(label + ", allocations", allocations, "", atMost: isHeadline ? 0 : nil)
                }
                wire.add(
                    label + ": encode per change", figures.encodeNanosecondsPerChange, "ns",
                    atMost: isHeadline ? 50 : nil)
                // Issue 23 holds decode + apply to 100 ns at every size, not only the headline's.
                wire.add(
                    label + ": decode + apply per change", figures.decodeApplyNanosecondsPerChange, "ns", atMost: 100)
                bytes.add(
                    label + " (\(figures.changes) changes, \(figures.incrementalBytes) of \(figures.completeBytes) B)",
                    100 * Double(figures.incrementalBytes) / Double(figures.completeBytes), "%",
                    atMost: isHeadline ? 2 : nil)
            }
        }
        report.sections += [diffs, wire, bytes]

        progress("100000 assignments as a split COMPLETE set")
        let complete = try bench.complete(size: 100_000)
        var split = BenchReport.Section(title: "100 000 assignments as COMPLETE under a 1 MiB budget")
        split.add("messages (\(complete.bytes) bytes in all)", Double(complete.messages), "")
        split.add(
            "largest message", Double(complete.largestMessage), "B", atMost: Double(AssignmentEncoder.defaultByteBudget)
        )
        split.add("encode (diff from empty + split + write)", complete.encodeMilliseconds, "ms")
        split.add("decode (validate every part)", complete.decodeMilliseconds, "ms")
        split.add("encode + decode", complete.encodeMilliseconds + complete.decodeMilliseconds, "ms", atMost: 20)
        split.add("apply to an empty receiver (decode included)", complete.applyMilliseconds, "ms")
        report.sections.append(split)

        print(try report.rendered(as: output.format))
    }

}

/// "0.1 %" style labels.
enum PercentLabel {
    static func percent(_ fraction: Double) -> String {
        BenchReport.format(fraction * 100) + " %"
    }
}
